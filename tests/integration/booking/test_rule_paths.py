"""Every counted rule of a booking against every path that puts a booking on a day.

A rule that one path forgets lets abuse through that path, so each rule is run against
each path here, one test per cell:

* rules: one booking per ID card, service and day (``already_booked``); the caps on
  unconfirmed holds per client address, per email and per phone typed from it (429
  ``too_many_holds_*``); a family's bookings a day per address (``day_limit``); the
  slot's places (``slot_full``); a day staff closed (``centre_closed``);
* paths: a new booking (``POST /bookings``) and a move of a confirmed one (``POST
  /bookings/reschedule``). A move takes no unconfirmed hold, so the hold caps do not
  apply to it: there the cell asserts that the move goes through.

A refusal writes nothing: the booking moved is still at its old day and time (the move
page's own lookup, ``POST /bookings/visit``) and no slot's free places changed.

The booking service runs in-process on the real PostgreSQL (a database of the test's
own) and RabbitMQ (a vhost of its own) with its caps on — the shared test stack runs
with them off — and small caps, so that a cell needs few requests (the rule is the same
at any number). Its clock is a test clock, its days come from the product's calendar
(``tests.days``). apostille has one counter: each slot has one place. Citizens are
told apart as the citizen pages tell them: the pages' token and
``X-Asan-Client-Address``. No relay runs: the codes are read from the outbox."""
import hashlib
import json
import uuid

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.booking.service import BookingService
from shared.runtime.config import service_config
from tests.citizens import FRONTEND_TOKEN, as_citizen
from tests.clock import Clock
from tests.conftest import unused_port
from tests.days import bookable_days, clock_start, slots

pytestmark = pytest.mark.integration
CENTRE, SERVICE = "baku-1", "apostille"
STAFF_TOKEN = "rule-paths-staff-token"
CAPS = {"MAX_HOLDS_PER_ADDRESS": 3, "MAX_HOLDS_PER_EMAIL": 2, "MAX_HOLDS_PER_PHONE": 2,
        "MAX_DAY_PER_ADDRESS": 2}
# Every per-client rate limit off: the cells count bookings, not requests.
NO_RATE_LIMITS = {name: "off" for name in (
    "booking_request", "booking_confirm", "booking_cancel", "booking_reschedule",
    "booking_resend", "booking_resend_per_booking")}
CITIZEN = "198.18.24.1"    # the citizen whose booking or request each cell is about
NEIGHBOUR = "198.18.24.2"  # someone else, who takes a place first
# The citizen's ID card, email and phone, where a rule counts them.
CARD, EMAIL, PHONE = "AZE24240001", "family@example.az", "+994509998877"


class Booking:
    """One booking service in-process, its database and clock, and the days a cell
    uses: ``home`` (where a booking to move is), ``target`` (where the cell books or
    moves to) and ``spare`` (other days, for holds that must not count on either)."""

    def __init__(self, url, database, clock):
        self.url, self.database, self.clock = url, database, clock
        days = bookable_days(now=clock.now, centre=CENTRE, service=SERVICE)
        assert len(days) >= 2 + CAPS["MAX_HOLDS_PER_ADDRESS"], days
        self.home, self.target, *self.spare = days
        self.day_limit_codes = []  # the order codes of the bookings day_limit made
        self._times = {}

    def time(self, day, n):
        """The ``n``-th slot of the day, ``"HH:MM"``."""
        if day not in self._times:
            self._times[day] = slots(day, CENTRE, SERVICE)
        return self._times[day][n]

    def request(self, day, at, citizen, **changes):
        """``POST /bookings`` from ``citizen`` with a form of its own (a new ID card,
        email and phone unless ``changes`` names them)."""
        form = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}",
                "phone": f"+99455{uuid.uuid4().int % 10 ** 7:07d}",
                "email": f"r-{uuid.uuid4().hex[:10]}@example.az", "service": SERVICE,
                "centre": CENTRE, "date": day.isoformat(), "time": at, **changes}
        return requests.post(f"{self.url}/bookings", json=form, headers=as_citizen(citizen),
                             timeout=30)

    def held(self, day, at, citizen, **changes):
        """A booking held, not confirmed: its id."""
        answer = self.request(day, at, citizen, **changes)
        assert answer.status_code == 202, answer.text
        return answer.json()["booking_id"]

    def confirmed(self, day, at, citizen, **changes):
        """A booking confirmed with its emailed code: its order code."""
        booking_id = self.held(day, at, citizen, **changes)
        code = self._emailed(booking_id, "booking_confirmation_code", "code")
        answer = requests.post(f"{self.url}/bookings/{booking_id}/confirm",
                               json={"code": code}, headers=as_citizen(citizen), timeout=30)
        assert answer.status_code == 200, answer.text
        return self._emailed(booking_id, "booking_order_code", "order_code")

    def _emailed(self, booking_id, template, variable):
        with psycopg.connect(self.database) as conn:
            rows = conn.execute("SELECT body FROM outbox WHERE routing_key = 'EmailRequested'"
                                " ORDER BY id").fetchall()
        for (body,) in rows:
            data = json.loads(bytes(body))["data"]
            if data["reference"] == f"booking-{booking_id}" and data["template"] == template:
                return data["variables"][variable]
        raise AssertionError(f"no {template} email requested for {booking_id}")

    def move(self, order_code, day, at, citizen):
        return requests.post(f"{self.url}/bookings/reschedule", headers=as_citizen(citizen),
                             json={"order_code": order_code, "date": day.isoformat(),
                                   "time": at}, timeout=30)

    def visit(self, order_code, citizen):
        """The booking's day and time, as the move page looks them up."""
        answer = requests.post(f"{self.url}/bookings/visit", json={"order_code": order_code},
                               headers=as_citizen(citizen), timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["date"], answer.json()["time"]

    def free(self):
        """``{(day, "HH:MM"): free places}`` of the home and target days as the slot
        list shows them; a day closed shows none: ``{(day, None): its refusal code}``."""
        places = {}
        for day in (self.home, self.target):
            answer = requests.get(f"{self.url}/centres/{CENTRE}/services/{SERVICE}/slots",
                                  params={"date": day.isoformat()}, timeout=30)
            if answer.status_code == 400:
                [reason] = answer.json()["reasons"]
                places[(day, None)] = reason["code"]
                continue
            assert answer.status_code == 200, answer.text
            places |= {(day, slot["time"]): slot["free"] for slot in answer.json()}
        return places

    def close(self, day):
        answer = requests.post(f"{self.url}/admin/closures", timeout=30,
                               headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
                               json={"centre": CENTRE, "date": day.isoformat(),
                                     "reason": "technical_fault"})
        assert answer.status_code == 201, answer.text


@pytest.fixture
def booking(container_factory, rabbit_config, fresh_database):
    clock = Clock(clock_start())
    port = unused_port()
    container = container_factory(BookingService, dict(
        service_config("booking"), **rabbit_config,
        DATABASE_URL=fresh_database, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=3600, LAPSE_SWEEP_SECONDS=3600,
        REMINDER_SWEEP_SECONDS=3600, RATE_LIMITS_ENABLED="true", RATE_LIMITS=NO_RATE_LIMITS,
        FRONTEND_TOKEN_SHA256=[hashlib.sha256(FRONTEND_TOKEN.encode()).hexdigest()],
        CLOSURE_TOKEN_SHA256=[hashlib.sha256(STAFF_TOKEN.encode()).hexdigest()], **CAPS))
    replace_dependencies(container, "clock").side_effect = clock
    container.start()
    return Booking(f"http://127.0.0.1:{port}", fresh_database, clock)


# --- the rules: each puts the target day (or the citizen) into a state in which the
# rule refuses the citizen's booking onto the target time, and returns the form fields
# that booking must have for the rule to concern it.

def id_card(booking, card=CARD):
    """Q-1 (one booking per ID card, service and day): the card already has one on the
    target day."""
    booking.confirmed(booking.target, booking.time(booking.target, 0), NEIGHBOUR,
                      id_card=card)
    return {"id_card": card}


def holds_per_address(booking):
    """F-5 (abuse slowed, honest people never locked out): the citizen's address holds
    its cap of unconfirmed bookings, on other days."""
    for n in range(CAPS["MAX_HOLDS_PER_ADDRESS"]):
        booking.held(booking.spare[n], booking.time(booking.spare[n], 0), CITIZEN)
    return {}


def holds_per_email(booking, email=EMAIL):
    """F-5: the email, typed from the citizen's address, holds its cap."""
    for n in range(CAPS["MAX_HOLDS_PER_EMAIL"]):
        booking.held(booking.spare[n], booking.time(booking.spare[n], 1), CITIZEN,
                     email=email)
    return {"email": email}


def holds_per_phone(booking, phone=PHONE):
    """F-5: the phone, typed from the citizen's address, holds its cap."""
    for n in range(CAPS["MAX_HOLDS_PER_PHONE"]):
        booking.held(booking.spare[n], booking.time(booking.spare[n], 2), CITIZEN,
                     phone=phone)
    return {"phone": phone}


def day_limit(booking):
    """F-5 (a family's bookings, not a day's): the citizen's address has its cap of
    confirmed bookings of the service at the centre on the target day."""
    booking.day_limit_codes = [
        booking.confirmed(booking.target, booking.time(booking.target, n), CITIZEN)
        for n in range(CAPS["MAX_DAY_PER_ADDRESS"])]
    return {}


def capacity(booking):
    """Q-1 (a free place): someone else took the target slot's one place."""
    booking.confirmed(booking.target, booking.time(booking.target, 5), NEIGHBOUR)
    return {}


def closure(booking):
    """Q-1 (a day the centre opens): staff closed the centre on the target day."""
    booking.close(booking.target)
    return {}


# rule: (its refusal on a new booking, on a move; None: the move goes through)
RULES = {
    id_card: ((409, "already_booked"), (409, "already_booked")),
    holds_per_address: ((429, "too_many_holds_address"), None),
    holds_per_email: ((429, "too_many_holds_email"), None),
    holds_per_phone: ((429, "too_many_holds_phone"), None),
    day_limit: ((409, "day_limit"), (409, "day_limit")),
    capacity: ((409, "slot_full"), (409, "slot_full")),
    closure: ((409, "centre_closed"), (409, "centre_closed")),
}


def refused(answer, status, code):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert [reason["code"] for reason in body["reasons"]] == [code], body
    assert body["error"] == (code if status == 409 else "too_many_requests"), body
    assert body["message"]["az"] and body["message"]["en"], body


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_a_new_booking(booking, rule):
    """Q-1, F-5: ``POST /bookings`` of the citizen onto the target time, with the rule's
    state in place, is refused with the rule's own status and code; no place is
    taken."""
    subject = rule(booking)
    before = booking.free()
    answer = booking.request(booking.target, booking.time(booking.target, 5), CITIZEN,
                             **subject)
    refused(answer, *RULES[rule][0])
    assert booking.free() == before


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_a_move(booking, rule):
    """Q-1, F-5: the citizen's confirmed booking of the home day, moved onto the target
    time (``POST /bookings/reschedule``) with the rule's state in place, is refused as a
    new booking would be — the booking stays where it was and no place changes — except
    by the caps on unconfirmed holds, which a move does not take: it goes through."""
    home_time, target_time = booking.time(booking.home, 3), booking.time(booking.target, 5)
    order_code = booking.confirmed(booking.home, home_time, CITIZEN, id_card=CARD,
                                   email=EMAIL, phone=PHONE)
    rule(booking)
    before = booking.free()
    answer = booking.move(order_code, booking.target, target_time, CITIZEN)
    refusal = RULES[rule][1]
    if refusal is None:
        assert answer.status_code == 200, answer.text
        assert booking.visit(order_code, CITIZEN) == (booking.target.isoformat(), target_time)
        assert booking.free() == _moved(before, (booking.home, home_time),
                                        (booking.target, target_time))
        return
    refused(answer, *refusal)
    assert booking.visit(order_code, CITIZEN) == (booking.home.isoformat(), home_time)
    assert booking.free() == before
    # A booking is not counted against itself: within its own day it moves.
    if rule is id_card:
        _moves_within_its_day(booking, order_code, booking.home, booking.time(booking.home, 4))
    if rule is day_limit:
        _moves_within_its_day(booking, booking.day_limit_codes[0], booking.target,
                              booking.time(booking.target, 7))


def _moved(before, old, new):
    """``before`` with one place given back at ``old`` and one taken at ``new``."""
    return before | {old: before[old] + 1, new: before[new] - 1}


def _moves_within_its_day(booking, order_code, day, at):
    moved = booking.move(order_code, day, at, CITIZEN)
    assert moved.status_code == 200, moved.text
    assert booking.visit(order_code, CITIZEN) == (day.isoformat(), at)
