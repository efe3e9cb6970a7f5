"""Email requests for the notification service's tests, as booking sends them over
its private exchange, and what became of them (the ``emails`` row, the events)."""
import time
import uuid

import psycopg

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.notification.events import CATALOG
from shared.runtime.amqp import BatchPublisher, private_exchange_name
from shared.runtime.eventstore import EventStore


def request(to, intent=None, deliver_by=None):
    """A confirmation-code email request; ``deliver_by`` (aware) as booking sets it."""
    intent = intent or f"{uuid.uuid4()}:confirmation-code"
    data = {"intent_id": intent, "template": "booking_confirmation_code", "language": "en",
            "to": to, "reference": f"booking-{intent[:36]}",
            "variables": {"name": "Leyla", "code": "042517", "date": "2026-12-01",
                          "time": "10:15", "hold_minutes": 15,
                          "centre": "Baku ASAN service centre No. 1", "address": "Bakı",
                          "service": "Passport"}}
    if deliver_by is not None:
        data["deliver_by"] = deliver_by.isoformat()
    return BOOKING_EVENTS.new("EmailRequested", f"booking-{intent[:36]}", data,
                              str(uuid.uuid4()))


def send(amqp_uri, *envelopes):
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch((private_exchange_name("booking"), "EmailRequested",
                                 e.to_json().encode(), {"content_type":
                                                        "application/cloudevents+json"})
                                for e in envelopes)
    finally:
        publisher.close()


def events_of(database_url, intent):
    """(type, data) of every event of the email's stream."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return [(e.type, e.data) for e in EventStore(CATALOG).read_stream(conn,
                                                                          f"email-{intent}")]


def given_up(events):
    return any(data.get("will_retry") is False for _, data in events)


def wait_for_events(database_url, intent, done, timeout=20):
    """The email's events once ``done(events)`` holds (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        events = events_of(database_url, intent)
        if done(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def email_state(database_url, intent, final=True, timeout=20):
    """(status, attempts) of the email and its event types, once it is final: delivered,
    refused for good, or a failure given up."""
    def settled(events):
        types = [kind for kind, _ in events]
        return (bool(types) and types[-1] not in ("EmailCreated",)
                and (not final or "EmailDelivered" in types
                     or "EmailPermanentFailure" in types or given_up(events)))
    events = wait_for_events(database_url, intent, settled, timeout)
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT status, attempts FROM emails WHERE intent_id = %s",
                           (intent,)).fetchone()
    return row, [kind for kind, _ in events]
