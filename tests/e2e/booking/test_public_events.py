"""What other government systems read (D-3): every event on booking.events and
notification.events validates against its published schema, and none carries a
code, an order code, an email, a phone or an ID card number (non-negotiable 5)."""
import json
import os
import time
import uuid

import pika
import pytest
import requests

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.notification.events import CATALOG as NOTIFICATION_EVENTS
from shared.runtime.config import service_config
from shared.vocabulary.envelope import envelope_from_dict, format_sequence
from shared.runtime.signatures import InvalidSignature, verify_event
from tests.mailbox import confirmation_code, order_code, wait_for_mail

from .conftest import form, post

pytestmark = pytest.mark.e2e
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:27672/")


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
    # Issue 14: each event is signed by its service (verified against the JWKS the
    # service serves) and numbered: per service the numbers only go up, one by one.
    jwks = {service: requests.get(f"http://{service_config(service)['WEB_SERVER_ADDRESS']}"
                                  "/.well-known/jwks.json", timeout=10)
            for service in ("booking", "notification")}
    for service, answer in jwks.items():
        assert answer.status_code == 200, service
        assert answer.headers["Content-Type"] == "application/jwk-set+json"
        assert all("d" not in key for key in answer.json()["keys"])  # public parts only
    sequences = {}
    for properties, body in messages:
        event = json.loads(body)
        service = event["source"].removeprefix("/asan/")
        verify_event(body, jwks[service].json())
        # the header the number, the attribute the CloudEvents Sequence string (issue 23 §3)
        assert event["sequence"] == format_sequence(properties.headers["sequence"])
        sequences.setdefault(service, []).append(properties.headers["sequence"])
    for service, numbers in sequences.items():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), service
    tampered = body.replace(b'"data":{', b'"data":{"x":1,', 1)
    with pytest.raises(InvalidSignature):
        verify_event(tampered, jwks[service].json())
