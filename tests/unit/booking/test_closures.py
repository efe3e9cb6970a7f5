"""Issue 17 §6, closures, pure: given a centre's day and its bookings, when staff
close it (or one service at it), then which refusal, which events."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.booking import domain, events
from services.booking.reference import ReferenceData
from shared.vocabulary.clock import BAKU
from shared.vocabulary.errors import Conflict, ValidationFailed

REF = ReferenceData.load()
# Monday 23 November 2026, 10:00 in Baku; baku-1 works 09:00-18:00 on weekdays
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
TODAY, TOMORROW = date(2026, 11, 23), date(2026, 11, 24)
CLOSURE_ID = "7d0f1c9e-0000-4000-8000-000000000001"
BOOKING_ID = "7d0f1c9e-0000-4000-8000-0000000000b1"


def closure(day=TOMORROW, service=None, centre="baku-1", reason="power_outage"):
    return domain.Closure(centre, service, day, reason)


def closed_day(*closures):
    return domain.fold_closure(event for c in closures
                               for event in domain.close(CLOSURE_ID, c, NOW, 0))


def problems(c, now=NOW):
    return {(p.field, p.code) for p in domain.closure_problems(c, REF, now)}


def booking(status="confirmed", day=TOMORROW, at="10:15", service="passport",
            hold_expires_at=NOW + timedelta(minutes=15)):
    return domain.Booking(booking_id=BOOKING_ID, status=status, centre="baku-1", service=service,
                          day=day, time=time.fromisoformat(at), hold_expires_at=hold_expires_at,
                          version=2)


def test_every_reason_code_has_its_words_in_both_languages():
    assert tuple(domain.CLOSURE_REASONS) == events.CLOSURE_REASONS
    for reason in events.CLOSURE_REASONS:
        assert domain.closure_reason_words(reason, "az") != \
            domain.closure_reason_words(reason, "en")


def test_tomorrow_and_today_before_closing_time_can_be_closed():
    assert problems(closure(TOMORROW)) == set()
    assert problems(closure(TODAY)) == set()  # an emergency
    assert problems(closure(TODAY), now=datetime(2026, 11, 23, 17, 59, tzinfo=BAKU)) == set()


def test_a_past_day_and_today_after_closing_time_are_over():
    assert problems(closure(date(2026, 11, 20))) == {("date", "day_over")}
    assert problems(closure(TODAY), now=datetime(2026, 11, 23, 18, 0, tzinfo=BAKU)) == \
        {("date", "day_over")}


def test_today_is_the_baku_day_on_either_side_of_baku_midnight():
    # 23:59 in Baku on the 23rd is 19:59 UTC: the 23rd is over, the 24th is not
    before = datetime(2026, 11, 23, 19, 59, tzinfo=timezone.utc)
    assert problems(closure(TODAY), now=before) == {("date", "day_over")}
    assert problems(closure(TOMORROW), now=before) == set()
    # 00:01 in Baku on the 24th is 20:01 UTC on the 23rd: the 24th is today, not over
    after = datetime(2026, 11, 23, 20, 1, tzinfo=timezone.utc)
    assert problems(closure(TOMORROW), now=after) == set()
    assert problems(closure(TODAY), now=after) == {("date", "day_over")}


def test_a_day_the_centre_does_not_work_and_one_over_a_year_ahead_are_refused():
    assert problems(closure(date(2026, 11, 29))) == {("date", "not_open")}  # a Sunday
    assert problems(closure(date(2026, 12, 31))) == {("date", "not_open")}  # a holiday
    assert problems(closure(TODAY + timedelta(days=400))) == {("date", "beyond_horizon")}


def test_unknown_centre_service_and_reason_are_named():
    assert problems(closure(centre="nowhere")) == {("centre", "unknown_centre")}
    assert problems(closure(service="nothing")) == {("service", "unknown_service")}
    assert problems(closure(reason="because")) == {("reason", "unknown_reason")}


def test_a_service_the_centre_does_not_offer_cannot_be_closed_there():
    centre = next(c for c in REF.centres.values() if c.services != frozenset(REF.services))
    missing = sorted(set(REF.services) - centre.services)[0]
    assert problems(closure(centre=centre.code, service=missing)) == \
        {("service", "not_offered")}


def test_the_same_closure_twice_is_refused_already_closed():
    with pytest.raises(Conflict) as refused:
        domain.check_close(closed_day(closure()), closure(), REF, NOW)
    assert refused.value.error == "already_closed"
    with pytest.raises(Conflict):  # a service of a centre closed as a whole
        domain.check_close(closed_day(closure()), closure(service="passport"), REF, NOW)
    with pytest.raises(Conflict):
        domain.check_close(closed_day(closure(service="passport")),
                           closure(service="passport"), REF, NOW)


def test_a_centre_with_one_service_closed_can_still_close_another_or_as_a_whole():
    day = closed_day(closure(service="passport"))
    domain.check_close(day, closure(service="apostille"), REF, NOW)
    domain.check_close(day, closure(), REF, NOW)


def test_a_refused_closure_is_a_validation_failure_listing_every_reason():
    with pytest.raises(ValidationFailed) as refused:
        domain.check_close(domain.ClosedDay(), closure(date(2020, 1, 1), reason="x"), REF, NOW)
    assert {r.code for r in refused.value.reasons} == {"day_over", "unknown_reason"}


def test_centre_closed_names_the_closure_and_the_bookings_it_cancelled():
    assert domain.close(CLOSURE_ID, closure(service="passport"), NOW, 3) == [("CentreClosed", {
        "closure_id": CLOSURE_ID, "centre": "baku-1", "service": "passport",
        "date": "2026-11-24", "reason": "power_outage", "closed_at": NOW.isoformat(),
        "cancelled": 3})]


def test_no_new_booking_on_a_closed_day_of_the_centre_or_of_the_service():
    whole = closed_day(closure())
    assert domain.closed_refusal(whole, "passport").error == "centre_closed"
    one = closed_day(closure(service="passport"))
    refusal = domain.closed_refusal(one, "passport")
    assert refusal.error == "centre_closed" and refusal.reasons[0].field == "date"
    assert refusal.message.az and refusal.message.en
    assert domain.closed_refusal(one, "apostille") is None
    assert domain.closed_refusal(domain.ClosedDay(), "passport") is None


@pytest.mark.parametrize("status", ["requested", "confirmed"])
def test_a_held_or_confirmed_booking_of_the_day_is_cancelled_by_the_closure(status):
    assert domain.cancel_for_closure(booking(status), CLOSURE_ID, closure(), NOW) == [
        ("BookingCancelled", {"booking_id": BOOKING_ID, "cancelled_at": NOW.isoformat(),
                              "by": "closure", "closure_id": CLOSURE_ID})]


def test_closing_today_cancels_the_bookings_not_yet_activated_whatever_their_time():
    early = booking(day=TODAY, at="09:00")
    assert domain.cancel_for_closure(early, CLOSURE_ID, closure(TODAY), NOW)[0].by == \
        "closure"


@pytest.mark.parametrize("status", ["activated", "cancelled", "lapsed", "expired", "void"])
def test_a_booking_activated_or_already_ended_stays_as_it_is(status):
    assert domain.cancel_for_closure(booking(status), CLOSURE_ID, closure(), NOW) == []


def test_a_hold_that_lapsed_unswept_expires_instead_of_being_cancelled():
    stale = booking("requested", hold_expires_at=NOW - timedelta(minutes=1))
    assert domain.cancel_for_closure(stale, CLOSURE_ID, closure(), NOW) == [
        ("HoldExpired", {"booking_id": BOOKING_ID, "expired_at": NOW.isoformat()})]


def test_a_closure_of_one_service_leaves_the_other_services_and_days_alone():
    assert domain.cancel_for_closure(booking(service="apostille"), CLOSURE_ID,
                                     closure(service="passport"), NOW) == []
    assert domain.cancel_for_closure(booking(day=date(2026, 11, 25)), CLOSURE_ID, closure(),
                                     NOW) == []


def test_the_cancelled_event_by_closure_is_valid_in_the_catalogue():
    [(name, data)] = domain.cancel_for_closure(booking(), CLOSURE_ID, closure(), NOW)
    assert events.CATALOG.normalized(name, data)["by"] == "closure"
    [(name, data)] = domain.close(CLOSURE_ID, closure(), NOW, 0)
    assert events.CATALOG.normalized(name, data)["service"] is None
