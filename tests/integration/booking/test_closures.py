"""Issue 17 §6, closures, on the real stack: the booking and notification services
in-process on the real PostgreSQL, RabbitMQ (a vhost of the test's own) and SMTP
sink, the booking relay running, one clock the test moves. Staff close a centre's
day: its bookings are cancelled and emailed why with a link to book again, no new
booking can be made that day (a booking racing the closure is refused or cancelled,
never left standing), the same closure twice changes nothing, "today" is Baku's, no
input gets a 500, and the read models are still the fold of the events."""
import hashlib
import json
import os
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone

import eventlet
import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.booking.domain import closure_stream
from services.booking.service import BookingService
from services.notification.service import NotificationService
from shared.vocabulary.clock import BAKU
from shared.ops.rebuild import rebuild
from shared.runtime.relay import Relay
from shared.runtime.config import service_config
from tests.clock import Clock
from tests.conftest import unused_port
from tests.keys import signer_for
from tests.mailbox import confirmation_code, messages_to, text_of, wait_for_mail
from tests.markers import wait_until

pytestmark = pytest.mark.integration
TOKEN = "closure-test-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
BOOK_AGAIN = "https://onlaynnovbe.example.az/booking"
SMTP = {"SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "27025")), "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "ASAN xidmət <no-reply@asan.gov.az>"}


class Stack:
    def __init__(self, clock, url, database):
        self.clock, self.url, self.database = clock, url, database

    def form(self, day="2026-11-24", at="10:15", service="passport", centre="baku-1",
             language="az"):
        return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "phone": "+994501234567",
                "email": f"closure-{uuid.uuid4().hex[:10]}@example.az", "service": service,
                "centre": centre, "date": day, "time": at, "language": language}

    def book(self, **form):
        """A booking held (not confirmed): its id and email."""
        form = self.form(**form)
        response = requests.post(f"{self.url}/bookings", json=form, timeout=10)
        assert response.status_code == 202, response.text
        return response.json()["booking_id"], form["email"]

    def confirmed(self, **form):
        booking_id, email = self.book(**form)
        code = confirmation_code(wait_for_mail(email, "booking_confirmation_code"))
        response = requests.post(f"{self.url}/bookings/{booking_id}/confirm",
                                 json={"code": code}, timeout=10)
        assert response.status_code == 200, response.text
        wait_for_mail(email, "booking_order_code")
        return booking_id, email

    def close(self, headers=STAFF, **body):
        return requests.post(f"{self.url}/admin/closures", json=body, headers=headers,
                             timeout=30)

    def statuses(self, day="2026-11-24"):
        with psycopg.connect(self.database) as conn:
            return dict(conn.execute("SELECT booking_id::text, status FROM bookings"
                                     " WHERE day = %s", (day,)).fetchall())

    def events(self, *types):
        with psycopg.connect(self.database) as conn:
            rows = conn.execute("SELECT stream_id, event_type, data FROM events"
                                " WHERE event_type = ANY(%s) ORDER BY global_position",
                                (list(types),)).fetchall()
        return rows

    def slots(self, day="2026-11-24", service="passport", centre="baku-1"):
        return requests.get(f"{self.url}/centres/{centre}/services/{service}/slots",
                            params={"date": day}, timeout=10)


@pytest.fixture
def stack(container_factory, rabbit_config, make_database):
    clock = Clock()  # Monday 23 November 2026, 10:00 in Baku
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "services")
    databases = {name: make_database(os.path.join(root, name, "migrations"))
                 for name in ("booking", "notification")}
    ports = {name: unused_port() for name in databases}
    common = {name: dict(rabbit_config, DATABASE_URL=databases[name],
                         WEB_SERVER_ADDRESS=f"127.0.0.1:{ports[name]}",
                         EVENT_RETRY_DELAYS_MS=[100, 200]) for name in databases}
    configs = {
        # every request comes from 127.0.0.1: no rate limits, no caps per address
        "booking": dict(BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=3600,
                        LAPSE_SWEEP_SECONDS=3600, RATE_LIMITS_ENABLED=False,
                        CLOSURE_TOKEN_SHA256=[hashlib.sha256(TOKEN.encode()).hexdigest()],
                        BOOK_AGAIN_URL=BOOK_AGAIN),
        "notification": SMTP}
    classes = {"booking": BookingService, "notification": NotificationService}
    for name in databases:
        # each starts from its config.yaml (every key it declares is required)
        container = container_factory(classes[name],
                                      service_config(name) | common[name] | configs[name])
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
    relay = Relay("booking", databases["booking"], rabbit_config["AMQP_URI"],
                  signer_for("booking"), poll_interval=0.2,
                  sequence_format=service_config("booking")["EVENT_SEQUENCE_FORMAT"])
    thread = eventlet.spawn(relay.run)
    yield Stack(clock, f"http://127.0.0.1:{ports['booking']}", databases["booking"])
    relay.stop()
    thread.wait()


def test_closing_a_service_cancels_its_bookings_of_the_day_and_emails_why(stack):
    first, first_email = stack.confirmed(at="10:15")
    second, second_email = stack.confirmed(at="11:00", language="en")
    held, held_email = stack.book(at="12:00")
    other_service, _ = stack.confirmed(service="apostille", at="10:15")
    other_day, _ = stack.confirmed(day="2026-11-25")
    assert stack.slots().json()[5]["free"] == 2  # 10:15: one of three places taken

    closed = stack.close(centre="baku-1", service="passport", date="2026-11-24",
                         reason="power_outage")
    assert closed.status_code == 201, closed.text
    answer = closed.json()
    assert answer["cancelled"] == 3 and answer["service"] == "passport"
    assert answer["date"] == "2026-11-24" and answer["reason"] == "power_outage"

    statuses = stack.statuses()
    assert {statuses[b] for b in (first, second, held)} == {"cancelled"}
    assert statuses[other_service] == "confirmed"
    assert stack.statuses("2026-11-25")[other_day] == "confirmed"

    cancelled = {row[2]["booking_id"]: row[2] for row in stack.events("BookingCancelled")}
    assert set(cancelled) == {first, second, held}
    assert {(c["by"], c["closure_id"]) for c in cancelled.values()} == \
        {("closure", answer["closure_id"])}
    [(stream, _, data)] = stack.events("CentreClosed")
    assert stream == "closure-baku-1-2026-11-24"
    assert data["cancelled"] == 3 and data["service"] == "passport"
    with psycopg.connect(stack.database) as conn:  # public: relayed to booking.events
        published = conn.execute("SELECT count(*) FROM outbox WHERE routing_key ="
                                 " 'CentreClosed'").fetchone()[0]
        relayed = conn.execute("SELECT count(*) FROM events WHERE event_type ="
                               " 'CentreClosed'").fetchone()[0]
    assert relayed == 1 and published in (0, 1)  # the relay deletes what it published

    az = text_of(wait_for_mail(first_email, "booking_closed"))
    assert "elektrik enerjisinin kəsilməsi" in az and BOOK_AGAIN in az and "10:15" in az
    en = text_of(wait_for_mail(second_email, "booking_closed"))
    assert "a power outage" in en and BOOK_AGAIN in en and "11:00" in en
    assert BOOK_AGAIN in text_of(wait_for_mail(held_email, "booking_closed"))

    # The places are free again, but the day cannot be booked: no slots, a 409
    listed = stack.slots()
    assert listed.status_code == 400
    assert [r["code"] for r in listed.json()["reasons"]] == ["centre_closed"]
    refused = requests.post(f"{stack.url}/bookings", json=stack.form(), timeout=10)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "centre_closed"
    assert body["message"]["az"] and body["message"]["en"]
    assert body["reasons"][0]["field"] == "date"
    # ... other services of that centre can
    assert stack.slots(service="apostille").status_code == 200
    requests.post(f"{stack.url}/bookings", json=stack.form(service="apostille", at="11:00"),
                  timeout=10).raise_for_status()
    with psycopg.connect(stack.database) as conn:
        taken = conn.execute("SELECT coalesce(sum(taken), 0) FROM slot_usage WHERE"
                             " service = 'passport' AND day = '2026-11-24'").fetchone()[0]
    assert taken == 0  # every place of the closed service given back

    # Then the whole centre: the rest of its day goes too
    whole = stack.close(centre="baku-1", date="2026-11-24", reason="emergency")
    assert whole.status_code == 201, whole.text
    assert whole.json()["cancelled"] == 2 and whole.json()["service"] is None
    assert set(stack.statuses().values()) == {"cancelled"}
    assert rebuild("booking", config={"DATABASE_URL": stack.database}) == []


def test_the_same_closure_twice_changes_nothing(stack):
    booking_id, email = stack.confirmed()
    body = {"centre": "baku-1", "date": "2026-11-24", "reason": "technical_fault"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = stack.close(headers=STAFF | key, **body)
    assert first.status_code == 201, first.text
    replayed = stack.close(headers=STAFF | key, **body)  # a retry after a timeout
    assert replayed.status_code == 201 and replayed.json() == first.json()
    again = stack.close(**body)  # a second closure of the same day
    assert again.status_code == 409 and again.json()["error"] == "already_closed"
    service = stack.close(service="passport", **body)  # a service of the closed centre
    assert service.status_code == 409 and service.json()["error"] == "already_closed"
    assert len(stack.events("CentreClosed")) == 1
    assert len(stack.events("BookingCancelled")) == 1
    wait_for_mail(email, "booking_closed")
    # A second closing email would have been requested before this marker's, and sent
    # through the same relay and consumer.
    _, marker = stack.book(day="2026-11-25")
    wait_for_mail(marker, "booking_confirmation_code")
    assert len([m for m in messages_to(email)
                if str(m["X-Template"]).startswith("booking_closed/")]) == 1


RACED_DAY = closure_stream("baku-1", date(2026, 11, 24))  # the stream both commands lock


@contextmanager
def queued_on_the_days_lock(database):
    """Holds the lock of the day's closure stream (a closure takes it exclusively, a
    booking of that day shares it until it commits) for the block: the commands the
    block starts queue on it, and are granted it in the order they arrived when the
    block ends. Yields ``start(command, *args, **kwargs)``: ``command`` in a green
    thread (returned) once it waits for the lock, or has finished without waiting."""
    def waiters():
        with psycopg.connect(database) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database"
                "                 WHERE datname = current_database())"
                " AND (classid::bigint << 32 | objid::bigint) = hashtextextended(%s, 0)",
                (RACED_DAY,)).fetchone()[0]

    def start(command, *args, **kwargs):
        before = waiters()
        thread = eventlet.spawn(command, *args, **kwargs)
        wait_until(lambda: waiters() > before or thread.dead,
                   f"{command.__name__} waiting for {RACED_DAY}")
        return thread

    with psycopg.connect(database) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (RACED_DAY,))
        yield start
        holder.rollback()


def test_a_booking_that_reaches_the_day_after_the_closure_is_refused_centre_closed(stack):
    form = stack.form()
    with queued_on_the_days_lock(stack.database) as start:
        closing = start(stack.close, centre="baku-1", date="2026-11-24", reason="emergency")
        booking = start(requests.post, f"{stack.url}/bookings", json=form, timeout=30)
    closed, refused = closing.wait(), booking.wait()
    assert closed.status_code == 201, closed.text
    assert closed.json()["cancelled"] == 0
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "centre_closed"
    assert stack.statuses() == {}  # nothing was left standing on the closed day
    assert rebuild("booking", config={"DATABASE_URL": stack.database}) == []


def test_a_booking_that_commits_before_the_closure_is_cancelled_by_it(stack):
    form = stack.form()
    with queued_on_the_days_lock(stack.database) as start:
        booking = start(requests.post, f"{stack.url}/bookings", json=form, timeout=30)
        closing = start(stack.close, centre="baku-1", date="2026-11-24", reason="emergency")
    booked, closed = booking.wait(), closing.wait()
    assert booked.status_code == 202, booked.text
    assert closed.status_code == 201, closed.text
    assert closed.json()["cancelled"] == 1
    booking_id = booked.json()["booking_id"]
    assert stack.statuses() == {booking_id: "cancelled"}  # cancelled, never left standing
    [(_, _, cancelled)] = stack.events("BookingCancelled")
    assert (cancelled["booking_id"], cancelled["by"], cancelled["closure_id"]) == \
        (booking_id, "closure", closed.json()["closure_id"])
    assert BOOK_AGAIN in text_of(wait_for_mail(form["email"], "booking_closed"))
    assert rebuild("booking", config={"DATABASE_URL": stack.database}) == []


def test_today_is_the_baku_day_closing_just_after_baku_midnight(stack):
    stack.clock.set("2026-11-23", "23:30")  # the 24th is tomorrow in Baku: bookable
    booking_id, email = stack.confirmed(day="2026-11-24", at="09:00")
    # 00:01 in Baku on the 24th is still the 23rd in UTC (20:01)
    stack.clock.now = datetime(2026, 11, 23, 20, 1, tzinfo=timezone.utc)
    over = stack.close(centre="baku-1", date="2026-11-23", reason="other")
    assert over.status_code == 400
    assert [r["code"] for r in over.json()["reasons"]] == ["day_over"]
    today = stack.close(centre="baku-1", date="2026-11-24", reason="other")
    assert today.status_code == 201, today.text  # an emergency closure of today
    assert today.json()["cancelled"] == 1
    assert stack.statuses()[booking_id] == "cancelled"
    assert "gözlənilməz hallar" in text_of(wait_for_mail(email, "booking_closed"))
    # 18:00 in Baku: the 24th is over too
    stack.clock.now = datetime(2026, 11, 24, 18, 0, tzinfo=BAKU)
    late = stack.close(centre="baku-2", date="2026-11-24", reason="other")
    assert late.status_code == 400
    assert [r["code"] for r in late.json()["reasons"]] == ["day_over"]


HOSTILE = [
    None, [], "x", {}, {"centre": "baku-1"},
    {"centre": "baku-1", "date": "2026-11-24", "reason": "because"},
    {"centre": "baku-1", "date": "2026-11-24T00:00", "reason": "emergency"},
    {"centre": "baku-1", "date": "2026-02-30", "reason": "emergency"},
    {"centre": "baku-1", "date": "9999-12-31", "reason": "emergency"},
    {"centre": "baku-1", "date": "0001-01-01", "reason": "emergency"},
    {"centre": "\x00", "date": "2026-11-24", "reason": "emergency"},
    {"centre": "x" * 100000, "date": "2026-11-24", "reason": "emergency"},
    {"centre": ["baku-1"], "service": {"a": 1}, "date": 20261124, "reason": None},
    {"centre": "baku-1", "service": "", "date": "2026-11-24", "reason": "emergency"},
    {"centre": "baku-1", "service": "nothing", "date": "2026-11-24", "reason": "emergency"},
    {"centre": "nowhere", "date": "2026-11-24", "reason": "emergency"},
    {"centre": "baku-1", "date": "2026-11-29", "reason": "emergency"},
    {"centre": "baku-1", "date": "2030-11-25", "reason": "emergency"},
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_no_500_for_hostile_input(stack, body):
    response = requests.post(f"{stack.url}/admin/closures", data=json.dumps(body),
                             headers=STAFF | {"Content-Type": "application/json"}, timeout=30)
    assert response.status_code in (400, 413), response.text
    error = response.json()
    assert error["reasons"] and all(r["az"] and r["en"] for r in error["reasons"])


def test_only_staff_close_a_centre(stack):
    body = {"centre": "baku-1", "date": "2026-11-24", "reason": "emergency"}
    assert stack.close(headers={}, **body).status_code == 401
    wrong = stack.close(headers={"Authorization": "Bearer operator-dev-token"}, **body)
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    assert stack.events("CentreClosed") == []
