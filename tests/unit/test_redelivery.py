"""A handler asking for its message again later (``RedeliverLater``) is not a
failure: its delay queues, the delay chosen for a wait, and how it is counted —
while a real failure still retries, then parks (non-negotiable 3)."""
import sys

from shared.runtime.consumer import EventConsumer, QueueNames, RedeliverLater
from shared.vocabulary.errors import ValidationFailed
from shared.runtime.metrics import outcome_of

NAMES = QueueNames("notification", "on_booking_email", 3,
                   (3600000, 1000, 5000, 30000, 60000, 300000, 900000), delivery_limit=10)


def test_delay_queues_are_named_after_their_ttl_and_lead_back_to_the_handler():
    assert list(NAMES.delays.values()) == [f"notification.on_booking_email.delay.{ttl}" for ttl
                                           in ("1s", "5s", "30s", "1m", "5m", "15m", "1h")]
    arguments = dict(NAMES.declarations())
    assert arguments["notification.on_booking_email.delay.5m"] == {
        "x-queue-type": "quorum", "x-message-ttl": 300000,
        "x-dead-letter-exchange": "notification.requeue",
        "x-dead-letter-routing-key": "notification.on_booking_email",
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
    assert QueueNames("a", "b", 1, (250,), delivery_limit=10).delays == {250: "a.b.delay.250ms"}
    assert QueueNames("a", "b", 1, delivery_limit=10).delays == {}  # no redelivery: none


def test_a_wait_goes_to_the_longest_delay_not_above_it():
    assert NAMES.delay_queue(120000).endswith(".delay.1m")  # then the remaining minute
    assert NAMES.delay_queue(1800000).endswith(".delay.15m")
    assert NAMES.delay_queue(7200000).endswith(".delay.1h")
    assert NAMES.delay_queue(30000).endswith(".delay.30s")
    assert NAMES.delay_queue(999) is None  # due within the shortest delay: handle it now


def test_only_a_handler_declared_with_redelivery_expects_it():
    assert RedeliverLater in EventConsumer("booking", "X", redelivery=True).expected_exceptions
    assert EventConsumer("booking", "X").expected_exceptions == ()


def _raised(error):
    try:
        raise error
    except Exception:
        return sys.exc_info()


def test_asking_for_a_redelivery_is_counted_apart_from_errors():
    assert outcome_of(None, _raised(RedeliverLater(30))) == "later"
    assert outcome_of(None, _raised(RuntimeError("a bug"))) == "error"
    assert outcome_of(None, _raised(ValidationFailed([]))) == "refused"
