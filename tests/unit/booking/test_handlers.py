"""Booking's use cases (``services/booking/handlers.py``) on a fake unit of work and
in-memory queries (tests/unit/booking/fakes.py): the decisions of a request, a move,
a confirmation, a cancellation and an activation, without PostgreSQL or RabbitMQ.

The counted rules are one decision for every path that puts a booking on a day
(``domain.check_counted``): each is shown refusing a new booking and a move, a
move's counts leaving the moved booking out. The real stack runs the same rules
against each path in tests/integration/booking/."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.booking import domain, handlers
from services.booking.reference import slot_start
from services.booking.service import ACTIVATION_REFUSALS, activation_answer
from shared.vocabulary.errors import Conflict, NotFound, TooManyRequests
from shared.vocabulary.identity import canonical_order_code
from tests import days
from tests.unit.booking.fakes import REFERENCE, SHIPPED, Tables, run

NOW = days.clock_start()
DAY, OTHER_DAY = days.bookable_days(NOW)[:2]
TIMES = days.slots(DAY)
CENTRE, SERVICE = days.CENTRE, days.SERVICE          # 3 places a slot (its counters)
PLACES = REFERENCE.services[SERVICE].counters
HOME = "203.0.113.7"                                   # one family's network address
KEY = "test-key"
SETTINGS = handlers.Settings(KEY, SHIPPED.policy)
EMAIL_FIELDS = ["intent_id", "template", "language", "to", "reference", "deliver_by",
                "variables"]


@pytest.fixture
def tables():
    return Tables()


def applicant(n=1, email=None, phone=None):
    return domain.Applicant("Leyla", "Məmmədova", "Əli qızı", f"AZE{n:08d}",
                            phone or f"+99450{n:07d}", email or f"leyla{n}@example.az")


def visit(at=TIMES[0], day=DAY, service=SERVICE, centre=CENTRE):
    return domain.Visit(centre, service, day, domain.time.fromisoformat(at))


def request(tables, who=None, where=None, address=HOME, settings=SETTINGS, now=NOW):
    return run(tables, lambda uow: handlers.request_booking(
        uow, REFERENCE, settings, who or applicant(), where or visit(), "az", "web", now,
        address))


def sent(tables, template):
    return [data for name, _, data in tables.sent
            if name == "EmailRequested" and data["template"] == template]


def confirm(tables, booking_id, code=None, now=NOW):
    if code is None:
        [email] = [data for data in sent(tables, "booking_confirmation_code")
                   if data["reference"] == f"booking-{booking_id}"]
        code = email["variables"]["code"]
    return run(tables, lambda uow: handlers.confirm_booking(
        uow, REFERENCE, SETTINGS, booking_id, code, now))


def booked(tables, who=None, where=None, address=HOME, settings=SETTINGS):
    """A confirmed booking: its id and order code (canonical)."""
    booking_id = request(tables, who, where, address, settings)["booking_id"]
    confirm(tables, booking_id)
    [email] = [data for data in sent(tables, "booking_order_code")
               if data["reference"] == f"booking-{booking_id}"]
    return booking_id, canonical_order_code(email["variables"]["order_code"])


def move(tables, order_code, at, day=DAY, settings=SETTINGS):
    return run(tables, lambda uow: handlers.reschedule_booking(
        uow, REFERENCE, settings, order_code, day, domain.time.fromisoformat(at), NOW))


def close(tables, day=DAY):
    return run(tables, lambda uow: handlers.close_centre(
        uow, REFERENCE, domain.Closure(CENTRE, None, day, "power_outage"), NOW,
        "https://example.az/booking"))


def events(tables, booking_id):
    return [name for name, _ in tables.streams.get(f"booking-{booking_id}", [])]


def refused(kind, error, call):
    """The refusal ``call()`` raises: of ``kind``, named ``error``."""
    with pytest.raises(kind) as raised:
        call()
    assert raised.value.error == error, raised.value.as_dict()
    return raised.value


# --- a new booking --------------------------------------------------------------------

def test_q1_q2_a_request_holds_the_slot_and_emails_the_code(tables):
    """Q-1, Q-2: BookingRequested, the slot's place taken, the code emailed until the
    hold lapses (the EmailRequested data the notification service reads)."""
    answer = request(tables)
    assert answer["status"] == "requested"
    assert events(tables, answer["booking_id"]) == ["BookingRequested"]
    assert tables.taken[(CENTRE, SERVICE, DAY.isoformat(), TIMES[0])] == 1
    [email] = sent(tables, "booking_confirmation_code")
    assert list(email) == EMAIL_FIELDS
    assert email["deliver_by"] == answer["hold_expires_at"]
    assert email["intent_id"] == f"{answer['booking_id']}:confirmation-code"
    assert list(email["variables"]) == ["name", "code", "date", "time", "hold_minutes",
                                        "centre", "address", "service"]


def test_q1_one_booking_per_id_card_service_and_day(tables):
    """Q-1 (against hoarding): the ID card's second booking of the service that day is
    refused 409 already_booked, naming the ID card; nothing is recorded."""
    request(tables)
    refusal = refused(Conflict, "already_booked",
                      lambda: request(tables, where=visit(TIMES[1]), address="198.51.100.1"))
    assert [reason.field for reason in refusal.reasons] == ["id_card"]
    assert len(tables.streams) == 1
    assert request(tables, where=visit(TIMES[1], day=OTHER_DAY))["status"] == "requested"


@pytest.mark.parametrize("what, cap", [("address", 10), ("email", 8), ("phone", 8)])
def test_q1_unconfirmed_holds_are_capped_per_address_email_and_phone(tables, what, cap):
    """Q-1: a client holds at most ``cap`` unconfirmed places at once per address, and
    per email and phone from one address: 429 too_many_holds_<what>, with the wait."""
    settings = replace(SETTINGS, policy=replace(SHIPPED.policy, max_day_per_address=None))
    same = {"email": {"email": "same@example.az"}, "phone": {"phone": "+994501112233"}}
    for n in range(cap):
        request(tables, applicant(n, **same.get(what, {})), visit(TIMES[n]), settings=settings)
    refusal = refused(TooManyRequests, "too_many_requests", lambda: request(
        tables, applicant(99, **same.get(what, {})), visit(TIMES[cap]), settings=settings))
    assert [reason.code for reason in refusal.reasons] == [f"too_many_holds_{what}"]
    assert refusal.retry_after == SETTINGS.policy.hold_minutes * 60


def test_q1_one_address_books_a_familys_day_not_the_day(tables):
    """Q-1: one address has at most 6 bookings of a service at a centre on a day,
    confirmed or held (409 day_limit, naming the date); another day is open to it."""
    for n in range(6):
        booked(tables, applicant(n), visit(TIMES[n]))
    refusal = refused(Conflict, "day_limit",
                      lambda: request(tables, applicant(7), visit(TIMES[7])))
    assert [reason.field for reason in refusal.reasons] == ["date"]
    assert "108" in refusal.message.en and "6" in refusal.message.az
    assert request(tables, applicant(7), visit(TIMES[7], day=OTHER_DAY))["status"] == "requested"


def test_q1_a_day_staff_closed_takes_no_booking(tables):
    """Q-1: 409 centre_closed on a day the centre is closed."""
    close(tables)
    refused(Conflict, "centre_closed", lambda: request(tables))
    assert request(tables, where=visit(day=OTHER_DAY))["status"] == "requested"


def test_q1_a_full_slot_refuses_and_keeps_nothing(tables):
    """Q-1: capacity is the projection's: the slot's last place taken, the next request
    is refused 409 slot_full and leaves no event."""
    for n in range(PLACES):
        request(tables, applicant(n))
    before = dict(tables.streams)
    refused(Conflict, "slot_full", lambda: request(tables, applicant(50)))
    assert tables.streams == before


def test_q2_a_lapsed_hold_gives_its_place_to_the_next_request(tables):
    """Q-2: a hold that lapsed unswept gives its place back first."""
    first = [request(tables, applicant(n))["booking_id"] for n in range(PLACES)]
    later = NOW + timedelta(minutes=SETTINGS.policy.hold_minutes)
    assert request(tables, applicant(50), now=later)["status"] == "requested"
    assert events(tables, first[0]) == ["BookingRequested", "HoldExpired"]


# --- a move: the same counted rules, this booking left out ----------------------------

def test_a_move_takes_the_new_place_gives_back_the_old_and_emails_the_new_time(tables):
    """Q-1: a booking moved to another time; one email with the new time."""
    booking_id, order_code = booked(tables)
    answer = move(tables, order_code, TIMES[4], day=OTHER_DAY)
    assert (answer["date"], answer["time"]) == (OTHER_DAY.isoformat(), TIMES[4])
    assert tables.taken[(CENTRE, SERVICE, DAY.isoformat(), TIMES[0])] == 0
    assert tables.taken[(CENTRE, SERVICE, OTHER_DAY.isoformat(), TIMES[4])] == 1
    [email] = sent(tables, "booking_rescheduled")
    assert list(email) == EMAIL_FIELDS
    assert email["intent_id"] == f"{booking_id}:rescheduled:3"
    assert email["variables"]["previous_time"] == TIMES[0]


def test_q1_a_move_onto_a_day_the_id_card_has_a_booking_is_refused(tables):
    """Q-1: one booking per ID card, service and day holds for a move (409
    already_booked, naming the date); a move within its own day is not refused by its
    own booking."""
    booked(tables, applicant(1), visit(TIMES[0]))
    _, order_code = booked(tables, applicant(1), visit(TIMES[0], day=OTHER_DAY))
    refusal = refused(Conflict, "already_booked", lambda: move(tables, order_code, TIMES[2]))
    assert [reason.field for reason in refusal.reasons] == ["date"]
    assert move(tables, order_code, TIMES[2], day=OTHER_DAY)["time"] == TIMES[2]


def test_q1_a_move_does_not_get_an_address_past_its_day_limit(tables):
    """Q-1: a family's day holds for a move (409 day_limit): six bookings of one
    address on a day, a seventh cannot be moved in from another day; one of the six
    moves within the day (its own count left out)."""
    mine = [booked(tables, applicant(n), visit(TIMES[n])) for n in range(6)]
    _, other = booked(tables, applicant(6), visit(TIMES[6], day=OTHER_DAY))
    refused(Conflict, "day_limit", lambda: move(tables, other, TIMES[6]))
    assert move(tables, mine[0][1], TIMES[10])["time"] == TIMES[10]


def test_q1_a_move_is_not_capped_by_the_holds_it_does_not_take(tables):
    """Q-1: the caps on unconfirmed holds are for new requests: a confirmed booking
    moved takes no hold, so an address at its cap still moves it."""
    settings = replace(SETTINGS, policy=replace(SHIPPED.policy, max_holds_per_address=2,
                                                max_day_per_address=None))
    _, order_code = booked(tables, applicant(1), settings=settings)
    for n in (2, 3):
        request(tables, applicant(n), visit(TIMES[n]), settings=settings)
    refused(TooManyRequests, "too_many_requests",
            lambda: request(tables, applicant(4), visit(TIMES[4]), settings=settings))
    assert move(tables, order_code, TIMES[5], settings=settings)["time"] == TIMES[5]


def test_q1_a_move_onto_a_closed_day_or_a_full_slot_is_refused(tables):
    """Q-1: 409 centre_closed, 409 slot_full; the booking stays where it was."""
    booking_id, order_code = booked(tables, applicant(1))
    close(tables, OTHER_DAY)
    refused(Conflict, "centre_closed", lambda: move(tables, order_code, TIMES[1], OTHER_DAY))
    for n in range(PLACES):
        request(tables, applicant(10 + n), visit(TIMES[3]), address=f"198.51.100.{n}")
    refused(Conflict, "slot_full", lambda: move(tables, order_code, TIMES[3]))
    assert events(tables, booking_id) == ["BookingRequested", "CodeConfirmed"]


def test_a_move_with_an_unknown_order_code_is_not_found(tables):
    """No hint which codes exist: 404 no_active_booking."""
    refused(NotFound, "no_active_booking", lambda: move(tables, "ABCDEFGH", TIMES[1]))


# --- confirmation, cancellation -------------------------------------------------------

def test_q3_q4_the_right_code_confirms_and_emails_the_order_code(tables):
    """Q-3, Q-4."""
    booking_id, order_code = booked(tables)
    assert events(tables, booking_id) == ["BookingRequested", "CodeConfirmed"]
    [email] = sent(tables, "booking_order_code")
    assert list(email) == EMAIL_FIELDS and email["intent_id"] == f"{booking_id}:order-code"
    assert email["deliver_by"] == slot_start(DAY, visit().time).isoformat()


def test_q6_a_wrong_code_is_refused_and_its_try_is_kept(tables):
    """Q-6: the refusal keeps its record (CodeRejected); the fifth wrong try voids the
    request and gives its place back."""
    booking_id = request(tables)["booking_id"]
    refusal = refused(domain.CodeRefused, "code_refused",
                      lambda: confirm(tables, booking_id, "000000x"))
    assert refusal.message.code == "wrong_code"
    assert events(tables, booking_id) == ["BookingRequested", "CodeRejected"]
    for _ in range(4):
        with pytest.raises(domain.CodeRefused):
            confirm(tables, booking_id, "000000x")
    assert events(tables, booking_id)[-2:] == ["CodeRejected", "BookingVoided"]
    assert tables.taken[(CENTRE, SERVICE, DAY.isoformat(), TIMES[0])] == 0
    assert sent(tables, "booking_order_code") == []


def test_q8_a_booking_is_cancelled_with_its_order_code(tables):
    """Q-8: BookingCancelled, the place given back, the receipt emailed; the code then
    names no active booking (404)."""
    booking_id, order_code = booked(tables)
    cancel = lambda: run(tables, lambda uow: handlers.cancel_booking(  # noqa: E731
        uow, REFERENCE, SETTINGS, order_code, NOW))
    assert cancel()["status"] == "cancelled"
    assert events(tables, booking_id)[-1] == "BookingCancelled"
    assert tables.taken[(CENTRE, SERVICE, DAY.isoformat(), TIMES[0])] == 0
    [email] = sent(tables, "booking_cancelled")
    assert list(email) == EMAIL_FIELDS
    refused(NotFound, "no_active_booking", cancel)


# --- activation at the kiosk: booking's RPC answers -----------------------------------

WINDOW = SHIPPED.window


def activate(tables, order_code, at, centre=CENTRE, kiosk="kiosk-1"):
    """What booking's RPC ``activate`` answers (``service.activation_answer``)."""
    try:
        slot = run(tables, lambda uow: handlers.activate_booking(
            uow, SETTINGS, order_code, centre, kiosk, at, WINDOW))
    except ACTIVATION_REFUSALS as refusal:
        return activation_answer(refusal)
    return activation_answer(slot)


def test_q7_q8_each_activation_outcome_keeps_its_wire_answer(tables):
    """Q-7, Q-8: the dicts the kiosk gateway reads, one per outcome."""
    booking_id, order_code = booked(tables)
    starts = slot_start(DAY, visit().time)
    slot = {"booking_id": booking_id, "centre": CENTRE, "service": SERVICE,
            "date": DAY.isoformat(), "time": TIMES[0]}
    assert activate(tables, "not a code", starts) == {"outcome": "invalid"}
    assert activate(tables, "ABCDEFGH", starts) == {"outcome": "invalid"}
    assert activate(tables, order_code, starts, centre="ganja") == \
        {"outcome": "other_centre", "centre": CENTRE}
    early = starts - WINDOW.early - timedelta(seconds=1)
    assert activate(tables, order_code, early) == \
        {"outcome": "too_early", **slot, "from": (starts - WINDOW.early).isoformat()}
    assert events(tables, booking_id) == ["BookingRequested", "CodeConfirmed"]
    assert activate(tables, order_code, starts) == {"outcome": "activated", **slot}
    again = activate(tables, order_code, starts + timedelta(minutes=1))
    assert again == {"outcome": "already_activated", **slot, "kiosk_id": "kiosk-1",
                     "activated_at": starts.isoformat()}


def test_q8_an_activation_after_the_grace_period_lapses_the_booking(tables):
    """Q-8: too late, the booking lapses; its BookingLapsed is kept with the refusal."""
    booking_id, order_code = booked(tables)
    late = slot_start(DAY, visit().time) + WINDOW.grace + timedelta(seconds=1)
    assert activate(tables, order_code, late)["outcome"] == "lapsed"
    assert events(tables, booking_id)[-1] == "BookingLapsed"
    assert activate(tables, order_code, late) == {"outcome": "invalid"}
