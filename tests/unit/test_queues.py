"""Issue 13 §2: every queue we consume from is a quorum queue, with its arguments made
in one place (``shared.runtime.queues``): the consumer, topology and the dead-letter tool
declare them alike, or RabbitMQ refuses (PRECONDITION_FAILED)."""
import pytest

from shared.runtime import queues
from shared.runtime.consumer import QueueNames
from shared.runtime.rpc import request_queue
from shared.runtime.settings import SettingsError
from shared.ops.topology import queue_groups


def test_every_queue_of_every_handler_and_service_is_a_quorum_queue():
    every = [spec for group in queue_groups() for spec in group]
    assert "rpc-booking" in [spec.name for spec in every]
    assert "notification.on_booking_email.delay.1h" in [spec.name for spec in every]
    assert {spec.arguments["x-queue-type"] for spec in every} == {"quorum"}


def test_dead_lettering_is_at_least_once_wherever_a_queue_dead_letters():
    """RabbitMQ silently falls back to at-most-once without reject-publish."""
    for group in queue_groups():
        for spec in group:
            if "x-dead-letter-exchange" in spec.arguments:
                assert spec.arguments["x-dead-letter-strategy"] == "at-least-once"
                assert spec.arguments["x-overflow"] == "reject-publish"


def test_a_handlers_queue_parks_poison_messages_in_its_dlq_after_the_delivery_limit():
    names = QueueNames("notification", "on_booking_email", 3, delivery_limit=7)
    main, arguments = names.declarations()[0]
    assert main == "notification.on_booking_email" and arguments == names.main_arguments
    assert arguments["x-delivery-limit"] == 7
    assert arguments["x-dead-letter-routing-key"] == "notification.on_booking_email.dlq"
    assert dict(names.declarations())[names.dlq] == {"x-queue-type": "quorum"}
    for retry in names.retries:  # back into the handler's queue
        assert dict(names.declarations())[retry]["x-dead-letter-routing-key"] == main


def test_the_delivery_limit_comes_from_config():
    with pytest.raises(SettingsError, match="EVENT_DELIVERY_LIMIT"):  # no default in code
        queues.delivery_limit({})
    assert queues.delivery_limit({"EVENT_DELIVERY_LIMIT": "4"}) == 4
    queue = request_queue("booking", {"EVENT_DELIVERY_LIMIT": 4})
    assert (queue.name, queue.routing_key, queue.exchange.name) == (
        "rpc-booking", "booking.*", "nameko-rpc")
    assert queue.queue_arguments == {"x-queue-type": "quorum", "x-delivery-limit": 4}
    assert queue.durable and not queue.auto_delete  # quorum queues cannot be either
