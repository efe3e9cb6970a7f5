"""An email that is no longer true is never sent (the reminder and move emails; Q-2,
Q-4 for the codes; D-1 for the fold), on the real parts: booking and
notification in-process with their outbox relays, the real PostgreSQL and RabbitMQ, a
mail sink of the test's own (deploy/mailsink.py) that refuses every message for a
while, and one clock the test moves (the reminder goes the day before its visit).

While the sink refuses, three confirmed bookings of tomorrow get their reminders;
then one is cancelled and one moved; then the sink accepts again. The reminders of the
cancelled and the moved booking are never delivered and end ``superseded`` (with the
booking event that made them untrue, in the email history of ``GET /emails/…``); the
untouched booking's reminder, the cancellation's receipt and the move's email (its new
time) are delivered. The other order — the booking event noted before the request
arrives — ends the same, without a try. ``emails`` stays the fold of the log (D-1).
"""
import hashlib
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import eventlet
import psycopg
import pytest
import requests
from nameko.testing.services import entrypoint_hook, replace_dependencies

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.booking.service import BookingService
from services.notification.events import CATALOG
from services.notification.service import NotificationService
from shared.runtime.amqp import BatchPublisher, events_exchange_name
from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from shared.runtime.eventstore import EventStore
from shared.ops.rebuild import rebuild
from shared.runtime.relay import Relay
from tests.clock import Clock
from tests.conftest import unused_port
from tests.integration.notification.emails import request as email_request
from tests.integration.notification.emails import send
from tests.keys import signer_for
from tests.mailbox import confirmation_code, order_code, text_of
from tests.markers import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3] / "services"
STAFF = "operator-dev-token"
SCALED = {"EVENT_RETRY_DELAYS_MS": [100, 200], "EVENT_REDELIVERY_DELAYS_MS": [100, 200],
          "EMAIL_RETRY_SCHEDULE_SECONDS": [0.2]}
TOMORROW = "2026-11-24"  # the clock starts on Monday 23 November 2026, 10:00 Baku


class Stack:
    """Booking and notification, their relays, the sink and the clock."""

    def __init__(self, urls, databases, containers, sink, refusing, clock):
        self.urls, self.databases, self.containers = urls, databases, containers
        self.sink, self.refusing, self.clock = sink, refusing, clock

    def post(self, path, body):
        return requests.post(self.urls["booking"] + path, json=body, timeout=30)

    def mail(self, to, template, count=1, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            found = self.mails(to, template)
            if len(found) >= count:
                return found[count - 1]
            assert time.monotonic() < deadline, f"no {template} email to {to}"
            time.sleep(0.1)

    def mails(self, to, template):
        return [m for m in self.sink.messages_to(to)
                if str(m.get("X-Template", "")).startswith(template + "/")]

    def confirmed(self, at):
        """A confirmed booking of tomorrow at ``at``: (booking id, order code, email)."""
        email = f"c-{uuid.uuid4().hex[:10]}@example.az"
        form = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "phone": "+994501234567",
                "email": email, "service": "apostille", "centre": "baku-1",
                "date": TOMORROW, "time": at}
        held = self.post("/bookings", form)
        assert held.status_code == 202, held.text
        booking_id = held.json()["booking_id"]
        code = confirmation_code(self.mail(email, "booking_confirmation_code"))
        assert self.post(f"/bookings/{booking_id}/confirm", {"code": code}).status_code == 200
        return booking_id, order_code(self.mail(email, "booking_order_code")), email

    def email_events(self, intent):
        with psycopg.connect(self.databases["notification"], autocommit=True) as conn:
            return [(e.type, e.data) for e in EventStore(CATALOG).read_stream(
                conn, f"email-{intent}")]

    def history(self, booking_id):
        response = requests.get(f"{self.urls['notification']}/emails/booking-{booking_id}",
                                headers={"Authorization": f"Bearer {STAFF}"}, timeout=10)
        assert response.status_code == 200, response.text
        return {email["template"]: email for email in response.json()}


@pytest.fixture
def stack(container_factory, rabbit_config, make_database, own_mail_sink, tmp_path):
    refusing = tmp_path / "refusing"
    sink = own_mail_sink(refuse_while=refusing)
    clock = Clock()
    staff = [hashlib.sha256(STAFF.encode()).hexdigest()]
    names = ("booking", "notification")
    databases = {name: make_database(ROOT / name / "migrations") for name in names}
    ports = {name: unused_port() for name in names}
    configs = {
        "booking": dict(BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=3600,
                        LAPSE_SWEEP_SECONDS=3600, REMINDER_SWEEP_SECONDS=3600,
                        RATE_LIMITS_ENABLED="false", OPERATOR_TOKEN_SHA256=staff,
                        EVENT_RETRY_DELAYS_MS=[100, 200]),
        "notification": dict(SCALED, OPERATOR_TOKEN_SHA256=staff, **sink.config),
    }
    containers = {}
    # Each starts from its config.yaml (its settings are one object, every key required).
    for name, cls in (("booking", BookingService), ("notification", NotificationService)):
        container = container_factory(cls, dict(
            service_config(name), **rabbit_config, DATABASE_URL=databases[name],
            WEB_SERVER_ADDRESS=f"127.0.0.1:{ports[name]}", **configs[name]))
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        containers[name] = container
    relays = []
    for name in names:
        relay = Relay(name, databases[name], rabbit_config["AMQP_URI"], signer_for(name),
                      poll_interval=0.1,
                      sequence_format=service_config(name)["EVENT_SEQUENCE_FORMAT"])
        relays.append((relay, eventlet.spawn(relay.run)))
    yield Stack({name: f"http://127.0.0.1:{ports[name]}" for name in names}, databases,
                containers, sink, refusing, clock)
    for relay, _ in relays:
        relay.stop()
    for _, thread in relays:
        thread.wait()


def _tried_and_refused(events):
    return any(kind == "EmailTemporaryFailure" for kind, _ in events)


def _final(events):
    return any(kind in ("EmailDelivered", "EmailSuperseded", "EmailPermanentFailure")
               for kind, _ in events)


def test_a_reminder_made_untrue_by_a_cancellation_or_a_move_is_never_sent(stack):
    cancelled, cancelled_code, cancelled_to = stack.confirmed("10:15")
    moved, moved_code, moved_to = stack.confirmed("10:30")
    kept, _, kept_to = stack.confirmed("10:45")

    stack.refusing.touch()  # the relay fails for a while
    stack.clock.set("2026-11-23", "17:00")  # the day before, past the quiet hours
    with entrypoint_hook(stack.containers["booking"], "send_reminders") as remind:
        remind()
    reminders = {booking: f"{booking}:reminder:{TOMORROW}" for booking in (cancelled, moved,
                                                                           kept)}
    wait_until(lambda: all(_tried_and_refused(stack.email_events(intent))
                           for intent in reminders.values()),
               "every reminder tried and refused by the sink")

    assert stack.post("/bookings/cancel", {"order_code": cancelled_code}).status_code == 200
    moving = stack.post("/bookings/reschedule", {"order_code": moved_code, "date": TOMORROW,
                                                 "time": "11:00"})
    assert moving.status_code == 200, moving.text
    # Both noted while the reminders are still being tried; then the sink accepts. (A
    # service that never notes them is shown wrong below, by what reached the citizens.)
    try:
        wait_until(lambda: "BookingCancelled" in _noted(stack, cancelled)
                   and "BookingRescheduled" in _noted(stack, moved),
                   "the cancellation and the move noted", timeout=15)
    except AssertionError:
        pass
    # A try already under way when they were noted weighed what was known before: let
    # one more try of each reminder come (made with them known), then the sink accepts.
    tried = {booking: len(stack.email_events(reminders[booking])) for booking in (cancelled,
                                                                                 moved)}
    wait_until(lambda: all(len(events) > count or _final(events) for events, count in (
        (stack.email_events(reminders[booking]), count) for booking, count in tried.items())),
        "one more try of each")
    stack.refusing.unlink()

    wait_until(lambda: all(_final(stack.email_events(intent)) for intent in reminders.values()),
               "every reminder delivered or superseded")
    assert stack.mails(cancelled_to, "booking_reminder") == []
    assert stack.mails(moved_to, "booking_reminder") == []
    [reminder] = stack.mails(kept_to, "booking_reminder")
    assert "10:45" in text_of(reminder)
    assert "11:00" in text_of(stack.mail(moved_to, "booking_rescheduled"))
    stack.mail(cancelled_to, "booking_cancelled")

    for booking, because in ((cancelled, "BookingCancelled"), (moved, "BookingRescheduled")):
        kinds = [kind for kind, _ in stack.email_events(reminders[booking])]
        assert kinds[-1] == "EmailSuperseded" and "EmailDelivered" not in kinds
        shown = stack.history(booking)["booking_reminder"]
        assert (shown["status"], shown["superseded_by"]) == ("superseded", because)
        assert shown["attempts"] >= 1
    assert stack.history(kept)["booking_reminder"]["status"] == "delivered"
    assert stack.history(moved)["booking_rescheduled"]["status"] == "delivered"
    assert stack.history(cancelled)["booking_cancelled"]["status"] == "delivered"
    # No try after the email was superseded: it stays as it ended.
    time.sleep(1)
    assert [kind for kind, _ in stack.email_events(reminders[cancelled])][-1] \
        == "EmailSuperseded"
    assert rebuild("notification", config={"DATABASE_URL": stack.databases["notification"]}) \
        == []


def test_a_cancellation_noted_before_the_reminder_arrives_supersedes_it_without_a_try(
        stack, rabbit_config):
    """The two exchanges are consumed apart: here booking's public events of a
    booking (confirmed, then cancelled) are noted first, and a reminder asked for
    before the cancellation arrives after it. Never tried, never sent: superseded."""
    booking = str(uuid.uuid4())
    asked = datetime(2026, 11, 23, 17, 0, tzinfo=BAKU)
    slot = {"booking_id": booking, "centre": "baku-1", "service": "apostille",
            "date": TOMORROW, "time": "10:15"}
    confirmed = BOOKING_EVENTS.new("CodeConfirmed", f"booking-{booking}", dict(
        slot, confirmed_at=(asked - timedelta(hours=2)).isoformat(), order_code_hash="x"),
        str(uuid.uuid4()), time=asked - timedelta(hours=2))
    cancelled = BOOKING_EVENTS.new("BookingCancelled", f"booking-{booking}", {
        "booking_id": booking, "cancelled_at": (asked + timedelta(seconds=5)).isoformat(),
        "by": "citizen"}, str(uuid.uuid4()), time=asked + timedelta(seconds=5))
    publisher = BatchPublisher(rabbit_config["AMQP_URI"])
    try:
        publisher.publish_batch(
            (events_exchange_name("booking"), event.type,
             event.with_data(BOOKING_EVENTS.public_form(event)).to_json().encode(),
             {"content_type": "application/cloudevents+json"})
            for event in (confirmed, cancelled))
    finally:
        publisher.close()
    try:  # (a service that never notes them is shown wrong below, by what it sent)
        wait_until(lambda: len(_noted(stack, booking)) == 2, "both booking events noted",
                   timeout=15)
    except AssertionError:
        pass

    to = f"c-{uuid.uuid4().hex[:10]}@example.az"
    reminder = email_request(to, intent=f"{booking}:reminder:{TOMORROW}")
    reminder = BOOKING_EVENTS.new("EmailRequested", f"booking-{booking}", dict(
        reminder.data, template="booking_reminder",
        variables={"name": "Leyla", "date": TOMORROW, "time": "10:15",
                   "centre": "Baku ASAN service centre No. 1", "address": "Bakı",
                   "service": "Apostille"}), str(uuid.uuid4()), time=asked)
    send(rabbit_config["AMQP_URI"], reminder)
    wait_until(lambda: _final(stack.email_events(reminder.data["intent_id"])),
               "the reminder dealt with")
    kinds = [kind for kind, _ in stack.email_events(reminder.data["intent_id"])]
    assert kinds == ["EmailCreated", "EmailSuperseded"]
    assert stack.sink.messages_to(to) == []
    assert stack.history(booking)["booking_reminder"]["superseded_by"] == "BookingCancelled"


def _noted(stack, booking):
    """The types of the booking events notification noted of ``booking``."""
    with psycopg.connect(stack.databases["notification"], autocommit=True) as conn:
        return [event.data["type"] for event in EventStore(CATALOG).read_stream(
            conn, f"booking-{booking}") if event.type == "BookingEventNoted"]

