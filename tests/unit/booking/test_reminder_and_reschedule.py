"""Issue 17 §4 and §5, pure: given a booking's events, when a reminder is due, a
reschedule or a new order code is asked for, then these events (or this refusal).
Days are Baku days (Q-1), on both sides of Baku midnight."""
import json
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.booking import domain
from services.booking.events import BookingActivated, BookingCancelled, BookingLapsed
from services.booking.reference import ReferenceData
from shared.vocabulary.clock import BAKU
from shared.vocabulary.errors import Conflict, NotFound, ValidationFailed
from tests.unit.booking.fakes import SHIPPED

REF = ReferenceData.load()
POLICY = SHIPPED.policy
REMINDERS = domain.Reminders(hour=10, quiet=timedelta(hours=6))
APPLICANT = domain.Applicant("Leyla", "Məmmədova", "Əli qızı", "AZE12345678",
                             "+994501234567", "leyla@example.az")
# Booked on Monday 23 November 2026 at 09:00 Baku for Wednesday the 25th at 10:15.
BOOKED = datetime(2026, 11, 23, 9, 0, tzinfo=BAKU)


NONE, OPEN = domain.Counts(), domain.ClosedDay()  # nothing counted, not closed


def move(state, to, now):
    """The move of ``state`` to the visit ``to`` at ``now``, nothing counted against it."""
    return domain.reschedule(state, to, NONE, OPEN, REF, now, POLICY)


def as_stored(events):
    return [(name, json.loads(json.dumps(data))) for name, data in events]


def confirmed(day=date(2026, 11, 25), at="10:15", when=BOOKED, service="passport"):
    events = domain.request("b-1", APPLICANT, domain.Visit("baku-1", service, day,
                                                           time.fromisoformat(at)),
                            domain.Counts(), domain.ClosedDay(), "az", "web", "h", when, POLICY)
    state = domain.fold(as_stored(events))
    confirmation = domain.confirm(state, True, "order-hash", when + timedelta(minutes=2))
    return as_stored(events + confirmation)


def given(*more):
    history = confirmed()
    for event in more:
        history += as_stored([event])
    return domain.fold(history)


# The slot of :func:`confirmed`'s booking, as its events carry it.
SLOT = {"booking_id": "b-1", "centre": "baku-1", "service": "passport", "date": "2026-11-25",
        "time": "10:15"}


def cancelled_at(moment):
    return BookingCancelled(booking_id="b-1", by="citizen", cancelled_at=moment.isoformat())


def visit(day, at="11:00"):
    return domain.Visit("baku-1", "passport", day, time.fromisoformat(at))


# --- §5 reschedule -----------------------------------------------------------------

def test_i17_q1_a_confirmed_booking_moves_to_a_new_day_and_time():
    state = given()
    now = datetime(2026, 11, 24, 12, 0, tzinfo=BAKU)
    [event] = move(state, visit(date(2026, 11, 26)), now)
    name, data = event
    assert name == "BookingRescheduled"
    assert data == {"booking_id": "b-1", "centre": "baku-1", "service": "passport",
                    "date": "2026-11-26", "time": "11:00", "previous_date": "2026-11-25",
                    "previous_time": "10:15", "rescheduled_at": now.isoformat()}
    moved = domain.evolve(state, event)
    assert (moved.day, moved.time, moved.status) == (date(2026, 11, 26), time(11, 0),
                                                     "confirmed")
    assert moved.order_code_hash == state.order_code_hash  # the order code stays valid
    assert moved.told_at == now


def test_i17_q1_the_new_day_is_at_least_tomorrow_in_baku_on_both_sides_of_midnight():
    state = given()
    before_midnight = datetime(2026, 11, 24, 19, 59, tzinfo=timezone.utc)  # 23:59 Baku
    after_midnight = datetime(2026, 11, 24, 20, 1, tzinfo=timezone.utc)  # 00:01 on the 25th
    assert move(state, visit(date(2026, 11, 25)), before_midnight)
    with pytest.raises(ValidationFailed) as refused:
        move(state, visit(date(2026, 11, 25)), after_midnight)
    assert [(r.field, r.code) for r in refused.value.reasons] == [("date", "too_late")]


@pytest.mark.parametrize("day, at, reason", [
    (date(2026, 11, 24), "11:00", ("date", "too_late")),  # today
    (date(2026, 12, 25), "11:00", ("date", "beyond_horizon")),
    (date(2026, 11, 29), "11:00", ("date", "closed")),  # a Sunday
    (date(2026, 11, 26), "11:07", ("time", "no_such_slot")),
])
def test_i17_q1_the_new_visit_is_judged_by_the_rules_of_a_new_booking(day, at, reason):
    now = datetime(2026, 11, 24, 12, 0, tzinfo=BAKU)
    with pytest.raises(ValidationFailed) as refused:
        move(given(), visit(day, at), now)
    assert [(r.field, r.code) for r in refused.value.reasons] == [reason]


def test_i17_only_a_confirmed_booking_before_its_time_moves_and_not_onto_itself():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=BAKU)
    with pytest.raises(Conflict) as same:
        move(given(), visit(date(2026, 11, 25), "10:15"), now)
    assert same.value.message.code == "same_time"
    started = datetime(2026, 11, 25, 10, 15, tzinfo=BAKU)
    with pytest.raises(Conflict) as late:
        move(given(), visit(date(2026, 11, 26)), started)
    assert late.value.message.code == "visit_started"
    for state in (domain.Booking(),
                  given(cancelled_at(now)),
                  given(BookingActivated(**SLOT, kiosk_id="k", activated_at=now.isoformat()))):
        with pytest.raises(NotFound) as refused:
            move(state, visit(date(2026, 11, 26)), now)
        assert refused.value.message.code == "no_active_booking"


# --- §5 a new order code -----------------------------------------------------------

def test_q4_i17_a_lost_order_code_is_replaced_by_a_new_one():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=BAKU)
    events = domain.reissue_order_code(given(), "new-hash", now)
    assert events == [("OrderCodeReissued", {"booking_id": "b-1", "reissued_at": now.isoformat(),
                                             "order_code_hash": "new-hash"})]
    assert domain.fold(confirmed() + as_stored(events)).order_code_hash == "new-hash"
    cancelled = given(cancelled_at(now))
    assert domain.reissue_order_code(cancelled, "new-hash", now) == []


# --- §4 the reminder ---------------------------------------------------------------

def test_i17_the_reminder_goes_out_the_day_before_from_the_configured_hour():
    state = given()  # the visit: 25 November
    assert domain.remind(state, datetime(2026, 11, 24, 9, 59, tzinfo=BAKU), REMINDERS) == []
    now = datetime(2026, 11, 24, 10, 0, tzinfo=BAKU)
    assert domain.remind(state, now, REMINDERS) == [("BookingReminded", {
        "booking_id": "b-1", "centre": "baku-1", "service": "passport", "date": "2026-11-25",
        "time": "10:15", "reminded_at": now.isoformat()})]
    # two days before: not yet
    assert domain.remind(state, datetime(2026, 11, 23, 18, 0, tzinfo=BAKU), REMINDERS) == []


def test_i17_the_day_before_is_a_baku_day_on_both_sides_of_midnight():
    state = given()
    last_minute = datetime(2026, 11, 24, 19, 59, tzinfo=timezone.utc)  # 23:59 Baku, the 24th
    visit_day = datetime(2026, 11, 24, 20, 1, tzinfo=timezone.utc)  # 00:01 Baku, the 25th
    assert [n for n, _ in domain.remind(state, last_minute, REMINDERS)] == ["BookingReminded"]
    assert domain.remind(state, visit_day, REMINDERS) == []


def test_i17_once_per_booking_and_day_and_again_for_a_new_day():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=BAKU)
    [reminded] = domain.remind(given(), now, REMINDERS)
    state = given(reminded)
    assert domain.remind(state, now + timedelta(hours=1), REMINDERS) == []
    [moved] = move(state, visit(date(2026, 11, 26)), now)
    state = given(reminded, moved)
    assert domain.remind(state, datetime(2026, 11, 25, 16, 0, tzinfo=BAKU), REMINDERS)[0].date == \
        "2026-11-26"


def test_i17_no_reminder_for_a_cancelled_activated_or_lapsed_booking():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=BAKU)
    for event in (cancelled_at(BOOKED), BookingLapsed(**SLOT, lapsed_at=BOOKED.isoformat())):
        assert domain.remind(given(event), now, REMINDERS) == []
    assert domain.remind(domain.fold(as_stored(domain.request(
        "b-2", APPLICANT, visit(date(2026, 11, 25)), domain.Counts(), domain.ClosedDay(), "az",
        "web", "h", BOOKED, POLICY))),
        now, REMINDERS) == []  # never confirmed


def test_i17_a_booking_confirmed_late_the_day_before_waits_the_quiet_hours_or_gets_none():
    day = date(2026, 11, 25)
    at_noon = domain.fold(confirmed(day, when=datetime(2026, 11, 24, 12, 0, tzinfo=BAKU)))
    assert domain.remind(at_noon, datetime(2026, 11, 24, 17, 0, tzinfo=BAKU), REMINDERS) == []
    assert domain.remind(at_noon, datetime(2026, 11, 24, 18, 2, tzinfo=BAKU), REMINDERS)
    in_the_evening = domain.fold(confirmed(day, when=datetime(2026, 11, 24, 20, 0,
                                                              tzinfo=BAKU)))
    assert all(domain.remind(in_the_evening, moment, REMINDERS) == []
               for moment in (datetime(2026, 11, 24, 23, 59, tzinfo=BAKU),
                              datetime(2026, 11, 25, 2, 5, tzinfo=BAKU)))
