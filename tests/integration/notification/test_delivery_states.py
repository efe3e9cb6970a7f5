"""Email delivery states against the real mail sink (its failure modes answer 451,
550 or hang up, by recipient) and the real broker and database: delivered,
temporary failure retried with back-off, permanent and technical failure, and
exactly one email per intent even when the request arrives twice. These requests
have no ``deliver_by`` (as before it existed): they keep the old three tries; the
email schedule is in test_emails_that_arrive.py."""
import uuid

import pytest

from services.notification.service import NotificationService
from shared.runtime.config import service_config
from shared.ops.rebuild import rebuild
from tests.conftest import unused_port
from tests.integration.notification.emails import email_state, request, send
from tests.mailbox import messages_to
from tests.markers import handler_quiet

pytestmark = pytest.mark.integration



@pytest.fixture
def running(container_factory, rabbit_config, fresh_database):
    """The notification service's container, started on ``fresh_database``, as shipped
    (the stack's mail sink: SMTP_HOST, SMTP_PORT) with its retries scaled down."""
    config = dict(service_config("notification"), **rabbit_config, DATABASE_URL=fresh_database,
                  WEB_SERVER_ADDRESS=f"127.0.0.1:{unused_port()}", SMTP_TIMEOUT=5,
                  EVENT_RETRY_DELAYS_MS=[100, 200], EVENT_REDELIVERY_DELAYS_MS=[100, 200])
    container = container_factory(NotificationService, config)
    container.start()
    return container


@pytest.fixture
def notification(running, fresh_database):
    """The database URL of the running notification service."""
    return fresh_database


def test_delivered_once_even_when_the_request_arrives_twice(notification, running,
                                                            rabbit_config):
    to = f"citizen-{uuid.uuid4().hex[:10]}@example.az"
    message = request(to)
    send(rabbit_config["AMQP_URI"], message, message)
    (status, attempts), events = email_state(notification, message.data["intent_id"])
    assert status == "delivered" and attempts == 1
    assert events == ["EmailCreated", "EmailDelivered"]
    handler_quiet(running, "on_booking_email")  # the second copy has been handled too
    mails = messages_to(to)
    assert len(mails) == 1
    assert mails[0]["X-Template"] == "booking_confirmation_code/v2"
    assert "042517" in mails[0].get_body(("plain",)).get_content()
    assert "042517" not in mails[0]["Subject"]


def test_a_temporary_failure_is_retried_with_back_off_then_final(notification, rabbit_config):
    message = request(f"refuse-temp-{uuid.uuid4().hex[:8]}@example.az")
    send(rabbit_config["AMQP_URI"], message)
    (status, attempts), events = email_state(notification, message.data["intent_id"])
    assert status == "temporary-failure" and attempts == 3  # first try + two retries
    assert events == ["EmailCreated"] + ["EmailTemporaryFailure"] * 3


def test_a_permanent_failure_is_not_retried(notification, rabbit_config):
    message = request(f"refuse-perm-{uuid.uuid4().hex[:8]}@example.az")
    send(rabbit_config["AMQP_URI"], message)
    (status, attempts), events = email_state(notification, message.data["intent_id"])
    assert status == "permanent-failure" and attempts == 1
    assert events == ["EmailCreated", "EmailPermanentFailure"]


def test_a_server_that_hangs_up_is_a_technical_failure(notification, rabbit_config):
    message = request(f"drop-{uuid.uuid4().hex[:8]}@example.az")
    send(rabbit_config["AMQP_URI"], message)
    (status, attempts), events = email_state(notification, message.data["intent_id"])
    assert status == "technical-failure" and attempts == 3
    assert events[-1] == "EmailTechnicalFailure"


def test_d1_the_emails_table_is_the_fold_of_every_delivery_state(notification, rabbit_config):
    """Issue 16: delivered (a request sent twice), retried then final, refused for good
    and hung up on — ``emails`` rebuilt from the event log equals the live table."""
    messages = [request(f"citizen-{uuid.uuid4().hex[:10]}@example.az"),
                request(f"refuse-temp-{uuid.uuid4().hex[:8]}@example.az"),
                request(f"refuse-perm-{uuid.uuid4().hex[:8]}@example.az"),
                request(f"drop-{uuid.uuid4().hex[:8]}@example.az")]
    send(rabbit_config["AMQP_URI"], messages[0], *messages)
    states = {email_state(notification, m.data["intent_id"])[0][0] for m in messages}
    assert states == {"delivered", "temporary-failure", "permanent-failure",
                      "technical-failure"}
    assert rebuild("notification", config={"DATABASE_URL": notification}) == []
