"""The booking rules of seed 000, pure: given a state, when a command, then events."""
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.booking import domain
from services.booking.reference import ReferenceData
from shared.vocabulary.clock import BAKU
from shared.vocabulary.errors import Conflict, NotFound
from shared.vocabulary.identity import canonical_order_code
from tests.unit.booking.fakes import SHIPPED

REF = ReferenceData.load()
POLICY = SHIPPED.policy
# Monday 23 November 2026, 10:00 in Baku
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)


def visit(day, at="10:15", centre="baku-1", service="passport"):
    return domain.Visit(centre, service, day, time.fromisoformat(at))


def problems(v, now=NOW):
    return {(p.field, p.code) for p in domain.visit_problems(v, REF, now, POLICY)}


@pytest.mark.parametrize("name", ["Leyla", "Məmmədova", "Əli qızı", "İlham", "Ağaəli oğlu",
                                  "Şükür", "Gülçöhrə", "Rəşid-Xan", "Işıq"])
def test_q5_azerbaijani_names_are_accepted(name):
    assert domain.name_problem(domain.normalize_name(name)) is None


@pytest.mark.parametrize("name", ["L3yla", "A", "Лейла", "Leyla!", "", "x" * 61])
def test_q5_names_that_are_not_azerbaijani_letters_are_refused(name):
    assert domain.name_problem(domain.normalize_name(name)) is not None


def test_q5_decomposed_letters_are_normalized_before_checking():
    decomposed = "Gu\u0308lc\u0327o\u0308hr\u0259"  # ü, ç, ö as base + combining marks
    assert domain.name_problem(domain.normalize_name(decomposed)) is None




def test_q1_tomorrow_in_baku_is_bookable():
    assert problems(visit(date(2026, 11, 24))) == set()


@pytest.mark.parametrize("day", [date(2026, 11, 23), date(2026, 11, 1)])
def test_q1_today_and_past_days_are_refused(day):
    assert problems(visit(day)) == {("date", "too_late")}


def test_q1_the_day_is_counted_in_baku_time_not_utc():
    # 01:30 on the 24th in Baku
    late_evening_utc = datetime(2026, 11, 23, 21, 30, tzinfo=timezone.utc)
    assert problems(visit(date(2026, 11, 24)), now=late_evening_utc) == {("date", "too_late")}


def test_a_public_holiday_is_refused():
    assert problems(visit(date(2026, 12, 31)), now=datetime(2026, 12, 20, tzinfo=BAKU)) == \
        {("date", "holiday")}


def test_a_day_the_centre_is_closed_is_refused():
    assert problems(visit(date(2026, 11, 29))) == {("date", "closed")}  # a Sunday


def test_beyond_the_booking_horizon_is_refused():
    assert problems(visit(NOW.date() + timedelta(days=31))) == {("date", "beyond_horizon")}


def test_a_time_that_is_not_a_slot_is_refused():
    assert problems(visit(date(2026, 11, 24), at="10:07")) == {("time", "no_such_slot")}
    assert problems(visit(date(2026, 11, 28), at="15:00")) == {("time", "no_such_slot")}  # Sat


def test_unknown_centre_service_and_a_service_not_offered():
    assert ("centre", "unknown_centre") in problems(visit(date(2026, 11, 24), centre="mars"))
    assert ("service", "unknown_service") in problems(visit(date(2026, 11, 24), service="x"))
    assert problems(visit(date(2026, 11, 24), centre="baku-5", service="notary")) == \
        {("service", "not_offered")}


# --- the decider --------------------------------------------------------------------
APPLICANT = domain.Applicant("Leyla", "Məmmədova", "Əli qızı", "AZE12345678",
                             "+994501234567", "leyla@example.az")
UTC_NOW = NOW.astimezone(timezone.utc)


def requested(**overrides):
    events = domain.request("b-1", APPLICANT, visit(date(2026, 11, 24)), domain.Counts(),
                            domain.ClosedDay(), "az", "web", "h", UTC_NOW,
                            replace(POLICY, **overrides))
    import json

    # as stored: JSON primitives
    return domain.fold([(name, json.loads(json.dumps(data))) for name, data in events])


def test_q2_a_request_holds_the_slot_until_the_hold_expires():
    state = requested()
    assert state.status == "requested" and state.attempts_left == 5
    assert state.hold_expires_at == UTC_NOW + timedelta(minutes=15)


def test_q3_q4_the_right_code_confirms_with_an_order_code():
    events = domain.confirm(requested(), True, "order-hash", UTC_NOW)
    assert [name for name, _ in events] == ["CodeConfirmed"]
    assert events[0].order_code_hash == "order-hash"


def test_q6_a_wrong_code_is_refused_with_the_tries_left():
    with pytest.raises(domain.CodeRefused) as refused:
        domain.confirm(requested(), False, None, UTC_NOW)
    refusal = refused.value
    assert refusal.events == [("CodeRejected", {"booking_id": "b-1", "attempts_left": 4})]
    assert refusal.keeps_record
    assert "4" in refusal.message.en and refusal.reasons[0].field == "code"


def test_q6_five_wrong_codes_void_the_request():
    state = requested()
    all_events = []
    for _ in range(5):
        with pytest.raises(domain.CodeRefused) as refused:
            domain.confirm(state, False, None, UTC_NOW)
        refusal = refused.value
        all_events += refusal.events
        for event in refusal.events:
            state = domain.evolve(state, event)
    assert [name for name, _ in all_events][-2:] == ["CodeRejected", "BookingVoided"]
    assert state.status == "void" and refusal.message.code == "too_many_wrong_codes"
    with pytest.raises(Conflict):
        domain.confirm(state, True, "h", UTC_NOW)  # even the right code is too late now


def test_an_expired_hold_cannot_be_confirmed_and_lapses():
    state = requested()
    later = UTC_NOW + timedelta(minutes=15)
    with pytest.raises(domain.CodeRefused) as refused:
        domain.confirm(state, True, "h", later)
    assert [name for name, _ in refused.value.events] == ["HoldExpired"]
    assert refused.value.message.code == "code_expired"
    assert domain.expire_hold(state, later)[0].event_type == "HoldExpired"
    assert domain.expire_hold(state, later - timedelta(seconds=1)) == []


def test_confirming_an_unknown_booking_is_not_found():
    with pytest.raises(NotFound):
        domain.confirm(domain.Booking(), True, "h", UTC_NOW)


def test_cancel_only_a_confirmed_booking_before_its_time():
    state = requested()
    state = domain.evolve(state, domain.confirm(state, True, "h", UTC_NOW)[0])
    assert domain.cancel(state, UTC_NOW)[0].event_type == "BookingCancelled"
    with pytest.raises(Conflict):
        domain.cancel(state, datetime(2026, 11, 24, 10, 15, tzinfo=BAKU))
    with pytest.raises(NotFound):
        domain.cancel(requested(), UTC_NOW)


def test_i17_a_booking_can_be_moved_only_while_confirmed_and_before_its_time():
    """What ``POST /bookings/visit`` and a move check first (issue 17 §5)."""
    day, at = date(2026, 11, 24), time(10, 15)
    domain.movable("confirmed", day, at, UTC_NOW)  # no refusal
    with pytest.raises(Conflict) as started:
        domain.movable("confirmed", day, at, datetime(2026, 11, 24, 10, 15, tzinfo=BAKU))
    assert started.value.error == "visit_started"
    for status in ("requested", "cancelled", "activated", None):
        with pytest.raises(NotFound):
            domain.movable(status, day, at, UTC_NOW)


def test_order_codes_are_short_keypad_friendly_and_hashed_with_a_key():
    code = domain.new_order_code()
    assert len(code) == 8 and set(code) <= set(domain.ORDER_CODE_ALPHABET)
    assert not set("01OIL") & set(domain.ORDER_CODE_ALPHABET)
    assert canonical_order_code(domain.format_order_code(code).lower()) == code
    assert domain.code_hash("k1", "order", code) == domain.code_hash("k1", "order", code)
    assert domain.code_hash("k1", "order", code) != domain.code_hash("k2", "order", code)
    assert code not in domain.code_hash("k1", "order", code)
