"""What other government systems read (D-3): every event on booking.events and
notification.events validates against its published schema, and none carries a
code, an order code, an email, a phone or an ID card number (non-negotiable 5)."""
import json
import os
import time
import uuid

import pika
import pytest

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.notification.events import CATALOG as NOTIFICATION_EVENTS
from shared.envelope import envelope_from_dict
from tests.mailbox import confirmation_code, order_code, wait_for_mail

from .conftest import form, post

pytestmark = pytest.mark.e2e
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:55672/")


@pytest.fixture
def subscriber():
    """A plain pika client, as an outside system would be."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    channel = connection.channel()
    queue = f"outside-system-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, exclusive=True)
    for exchange in ("booking.events", "notification.events"):
        channel.queue_bind(queue, exchange, routing_key="#")
    yield channel, queue
    connection.close()


def drain(channel, queue, until, timeout=30):
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            if until(messages):
                return messages
            time.sleep(0.1)
            continue
        messages.append((properties, body))
    return messages


def test_public_events_validate_and_carry_no_secrets_or_personal_data(subscriber):
    channel, queue = subscriber
    data = form()
    booking_id = post("/bookings", data).json()["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    post(f"/bookings/{booking_id}/confirm", {"code": code})
    order = order_code(wait_for_mail(data["email"], "booking_order_code"))
    post("/bookings/cancel", {"order_code": order})
    wait_for_mail(data["email"], "booking_cancelled")
    refused = post("/bookings", dict(form(), email="broken@"))
    assert refused.status_code == 400

    def complete(messages):
        types = {json.loads(body)["type"] for _, body in messages}
        return {"BookingRequested", "CodeConfirmed", "BookingCancelled", "BookingRefused",
                "EmailDelivered"} <= types

    messages = drain(channel, queue, complete)
    assert complete(messages)
    secrets = [code, order, order.replace("-", ""), data["email"], data["id_card"],
               "+994" + data["phone"].replace(" ", "")[4:], data["phone"],
               data["name"] + "\"", "Məmmədova"]
    for properties, body in messages:
        assert properties.content_type == "application/cloudevents+json"
        text = body.decode("utf-8")
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked in {text}"
        assert "code_hash" not in text and "applicant" not in text
        event = envelope_from_dict(json.loads(body))
        catalog = BOOKING_EVENTS if event.source == "/asan/booking" else NOTIFICATION_EVENTS
        catalog.validate_message(event)
        assert properties.message_id == event.id
