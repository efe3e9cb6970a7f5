"""Email delivery states against the real mail sink (its failure modes answer 451,
550 or hang up, by recipient) and the real broker and database: delivered,
temporary failure retried with back-off, permanent and technical failure, and
exactly one email per intent even when the request arrives twice."""
import os
import time
import uuid

import psycopg
import pytest

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.notification.service import NotificationService
from shared.amqp import BatchPublisher, private_exchange_name
from shared.eventstore import EventStore
from tests.mailbox import messages_to

pytestmark = pytest.mark.integration

SMTP = {"SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "55025")), "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "ASAN xidmət <no-reply@asan.gov.az>"}


@pytest.fixture
def notification(container_factory, rabbit_config, fresh_database):
    config = dict(rabbit_config, DATABASE_URL=fresh_database,
                  EVENT_RETRY_DELAYS_MS=[100, 200], **SMTP)
    container = container_factory(NotificationService, config)
    container.start()
    return fresh_database


def request(to, intent=None):
    intent = intent or f"{uuid.uuid4()}:confirmation-code"
    return BOOKING_EVENTS.new("EmailRequested", f"booking-{intent[:36]}", {
        "intent_id": intent, "template": "booking_confirmation_code", "language": "en",
        "to": to, "reference": f"booking-{intent[:36]}",
        "variables": {"name": "Leyla", "code": "042517", "date": "2026-12-01", "time": "10:15",
                      "hold_minutes": 15, "centre": "Baku ASAN service centre No. 1",
                      "address": "Bakı", "service": "Passport"}}, str(uuid.uuid4()))


def send(amqp_uri, *envelopes):
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch((private_exchange_name("booking"), "EmailRequested",
                                 e.to_json().encode(), {"content_type":
                                                        "application/cloudevents+json"})
                                for e in envelopes)
    finally:
        publisher.close()


def email_state(database_url, intent, final=True, timeout=20):
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT status, attempts FROM emails WHERE intent_id = %s",
                               (intent,)).fetchone()
            done = row and row[0] not in ("created", "sending") and \
                (not final or row[0] in ("delivered", "permanent-failure")
                 or _final_failure(conn, intent))
            if done or time.monotonic() > deadline:
                events = [e.type for e in EventStore(_catalog()).read_stream(conn, f"email-{intent}")]
                return row, events
            time.sleep(0.05)


def _final_failure(conn, intent):
    return conn.execute("SELECT count(*) FROM events WHERE stream_id = %s AND"
                        " (data->>'will_retry')::boolean IS FALSE", (f"email-{intent}",)
                        ).fetchone()[0] > 0


def _catalog():
    from services.notification.events import CATALOG

    return CATALOG


def test_delivered_once_even_when_the_request_arrives_twice(notification, rabbit_config):
    to = f"citizen-{uuid.uuid4().hex[:10]}@example.az"
    message = request(to)
    send(rabbit_config["AMQP_URI"], message, message)
    (status, attempts), events = email_state(notification, message.data["intent_id"])
    assert status == "delivered" and attempts == 1
    assert events == ["EmailCreated", "EmailDelivered"]
    time.sleep(0.5)
    mails = messages_to(to)
    assert len(mails) == 1
    assert mails[0]["X-Template"] == "booking_confirmation_code/v1"
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
