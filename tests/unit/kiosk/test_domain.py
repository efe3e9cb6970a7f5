"""The kiosk gateway's decider (D-5, Q-7), pure: given these events, when this
command, then these events (or this refusal)."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.kiosk_gateway import domain
from services.kiosk_gateway.events import ActivationRefused, KioskRegistered, KioskRevoked
from services.kiosk_gateway.handlers import booking_answer
from shared.vocabulary.clock import BAKU
from shared.vocabulary.dates import day_text
from shared.edge.http import status_of

POLICY = domain.Policy(repeat_window=timedelta(minutes=10), free_failures=3,
                       base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=10))
# Tuesday 24 November 2026, 10:05 in Baku
NOW = datetime(2026, 11, 24, 10, 5, tzinfo=BAKU)
HASH, NEW_HASH = "a" * 64, "b" * 64
REGISTERED = KioskRegistered(kiosk_id="baku-1-k1", centre="baku-1", credential_hash=HASH)
CATALOGUE = {"centres": {"baku-1": {"services": ["passport"], "hours": {
    "tue": ["09:00", "18:00"]}}}, "services": {"passport": {"prefix": "C"}},
    "closed_days": ["2026-12-31"]}


def given(*events):
    return domain.fold(events)


# --- kiosks (D-5) -------------------------------------------------------------------

def test_d5_a_kiosk_of_a_known_centre_is_registered_with_the_hash_of_its_secret():
    assert domain.decide_register("baku-1-k1", "baku-1", {"baku-1": {}}, HASH) == [REGISTERED]
    state = given(REGISTERED)
    assert (state.status, state.centre, state.credential_hash, state.version) == \
        ("active", "baku-1", HASH, 1)


def test_d5_no_kiosk_of_an_unknown_centre():
    with pytest.raises(domain.UnknownCentre):
        domain.decide_register("atlantis-k1", "atlantis", {"baku-1": {}}, HASH)


def test_d5_a_rotated_credential_replaces_the_old_hash():
    events = domain.decide_rotate(given(REGISTERED), NEW_HASH)
    assert events == [("KioskCredentialRotated", {"kiosk_id": "baku-1-k1", "centre": "baku-1",
                                                  "credential_hash": NEW_HASH})]
    assert given(REGISTERED, *events).credential_hash == NEW_HASH


def test_d5_a_revoked_or_unknown_kiosk_gets_no_new_credential():
    revoked = given(REGISTERED, KioskRevoked(kiosk_id="baku-1-k1", centre="baku-1"))
    with pytest.raises(domain.KioskIsRevoked):
        domain.decide_rotate(revoked, NEW_HASH)
    with pytest.raises(domain.UnknownKiosk):
        domain.decide_rotate(given(), NEW_HASH)


def test_d5_revoking_once_is_an_event_revoking_again_is_nothing():
    events = domain.decide_revoke(given(REGISTERED))
    assert events == [("KioskRevoked", {"kiosk_id": "baku-1-k1", "centre": "baku-1"})]
    assert domain.decide_revoke(given(REGISTERED, *events)) == []
    with pytest.raises(domain.UnknownKiosk):
        domain.decide_revoke(given())


# --- slowing down guessers (Q-7) ----------------------------------------------------

def wrong_codes(count, now=NOW):
    throttle, events = domain.Throttle(), []
    for _ in range(count):
        (event,) = domain.decide_refusal("k1", "baku-1", throttle, "invalid", now, POLICY)
        events.append(event)
        throttle = domain.evolve_throttle(throttle, event)
    return throttle, events


def test_q7_wrong_codes_below_the_free_ones_do_not_slow_a_kiosk_down():
    throttle, events = wrong_codes(2)
    assert throttle == domain.Throttle(2, None)
    assert [event.blocked_until for event in events] == [None, None]
    domain.check_not_blocked(throttle, NOW)  # no refusal


def test_q7_then_each_wrong_code_doubles_the_wait_up_to_the_maximum():
    throttle, events = wrong_codes(6)
    waits = [datetime.fromisoformat(event.blocked_until) - NOW
             for event in events if event.blocked_until]
    assert waits == [timedelta(seconds=s) for s in (2, 4, 8, 10)]
    with pytest.raises(domain.SlowedDown) as slowed:
        domain.check_not_blocked(throttle, NOW + timedelta(seconds=3))
    assert slowed.value.wait == 8
    domain.check_not_blocked(throttle, NOW + timedelta(seconds=10))


def test_q7_refusals_other_than_a_wrong_code_do_not_count():
    for reason in ("other_centre", "too_early", "lapsed"):
        (event,) = domain.decide_refusal("k1", "baku-1", domain.Throttle(2), reason, NOW, POLICY)
        assert event == ("ActivationRefused", {"kiosk_id": "k1", "centre": "baku-1",
                                               "reason": reason, "at": NOW.isoformat(),
                                               "blocked_until": None})
        assert domain.evolve_throttle(domain.Throttle(2), event) == domain.Throttle(2)


def test_q7_a_booked_ticket_clears_the_count_a_walk_in_does_not():
    throttle, _ = wrong_codes(4)
    (walk_in,) = domain.decide_ticket("t-1", 0, "baku-1", "passport", "C", "walk_in", "k1", NOW)
    assert domain.evolve_throttle(throttle, walk_in) == throttle
    (booked,) = domain.decide_ticket("t-2", 0, "baku-1", "passport", "C", "booked", "k1", NOW,
                                     {"booking_id": "b-1", "time": "10:15"})
    assert domain.evolve_throttle(throttle, booked) == domain.Throttle()


def test_q7_a_wrong_code_stored_before_refusals_said_until_when_is_slowed_by_the_default():
    policy = domain.EARLY_POLICY
    throttle = domain.Throttle(policy.free_failures - 1)
    old = ActivationRefused(kiosk_id="k1", centre="baku-1", reason="invalid",
                            at=NOW.isoformat())  # no blocked_until at all
    assert domain.evolve_throttle(throttle, old) == \
        domain.Throttle(policy.free_failures, NOW + policy.base_delay)


# --- what booking's answer means (Q-7) ----------------------------------------------

SLOT = {"booking_id": "b-1", "centre": "baku-1", "service": "passport", "date": "2026-11-24",
        "time": "10:15"}
NAMES = {"centres": {"ganja": {"az": "Gəncə ASAN", "en": "Ganja ASAN"}}}


def ticket(issued_at=NOW):
    return domain.ticket_of(domain.decide_ticket(
        "t-1", 0, "baku-1", "passport", "C", "booked", "k1", issued_at,
        {"booking_id": "b-1", "time": "10:15"})[0])


def activation(reply, existing=None, kiosk_id="k1", now=NOW, throttle=domain.Throttle()):
    return domain.decide_activation(booking_answer(reply, NAMES), existing, throttle, kiosk_id,
                                    "baku-1", now, POLICY)


def test_q7_booking_reply_is_read_once_into_the_deciders_input():
    assert booking_answer({"outcome": "activated", **SLOT}, NAMES) == \
        domain.BookingAnswer(booking=SLOT)
    assert booking_answer({"outcome": "already_activated", **SLOT, "kiosk_id": "k1",
                           "activated_at": NOW.isoformat()}, NAMES) == \
        domain.BookingAnswer(booking=SLOT, activated_by="k1", activated_at=NOW)
    opens = datetime(2026, 11, 24, 10, 30, tzinfo=BAKU)
    assert booking_answer({"outcome": "too_early", **SLOT, "from": opens.isoformat()},
                          NAMES) == domain.BookingAnswer(refused=domain.TooEarly,
                                                         details=(opens,))
    assert booking_answer({"outcome": "other_centre", "centre": "ganja"}, NAMES) == \
        domain.BookingAnswer(refused=domain.OtherCentre,
                             details=({"az": "Gəncə ASAN", "en": "Ganja ASAN"},))
    assert booking_answer({"outcome": "lapsed", **SLOT}, NAMES).refused is domain.Lapsed
    for unknown in ({"outcome": "invalid"}, {"outcome": "something_new"}):
        assert booking_answer(unknown, NAMES) == domain.BookingAnswer(refused=domain.InvalidCode)


def test_q7_a_yes_from_booking_prints_a_ticket_and_records_no_refusal():
    assert activation({"outcome": "activated", **SLOT}) == []


@pytest.mark.parametrize("reply, kind, status, error", [
    ({"outcome": "invalid"}, domain.InvalidCode, 404, "invalid_code"),
    ({"outcome": "other_centre", "centre": "ganja"}, domain.OtherCentre, 409, "other_centre"),
    ({"outcome": "too_early", **SLOT, "from": "2026-11-24T10:30:00+04:00"}, domain.TooEarly,
     409, "too_early"),
    ({"outcome": "lapsed", **SLOT}, domain.Lapsed, 410, "lapsed"),
])
def test_q7_q8_a_no_from_booking_is_its_refusal_kind_carrying_the_refusal_it_keeps(
        reply, kind, status, error):
    with pytest.raises(kind) as refused:
        activation(reply, throttle=domain.Throttle(1))
    assert (status_of(refused.value), refused.value.error) == (status, error)
    assert refused.value.keeps_record and refused.value.events == domain.decide_refusal(
        "k1", "baku-1", domain.Throttle(1), kind.reason, NOW, POLICY)
    assert refused.value.message.az and refused.value.message.en


def test_q7_q8_the_refusals_say_where_and_when_in_both_languages():
    with pytest.raises(domain.OtherCentre) as other:
        activation({"outcome": "other_centre", "centre": "ganja"})
    assert "Ganja ASAN" in other.value.message.en and "Gəncə ASAN" in other.value.message.az
    with pytest.raises(domain.TooEarly) as early:
        activation({"outcome": "too_early", **SLOT, "from": "2026-11-24T06:30:00+00:00"})
    assert f"from 10:30 on {day_text('2026-11-24', 'en')}" in early.value.message.en
    assert f"{day_text('2026-11-24', 'az')}, saat 10:30" in early.value.message.az


def test_q7_the_same_kiosk_asking_again_within_the_window_gets_the_same_ticket():
    again = {"outcome": "already_activated", **SLOT, "kiosk_id": "k1"}
    assert activation(again, ticket(), now=NOW + POLICY.repeat_window) == []
    later = NOW + POLICY.repeat_window + timedelta(seconds=1)
    for kiosk_id, now in (("k1", later), ("k2", NOW)):  # long ago, or another kiosk: used
        with pytest.raises(domain.InvalidCode) as used:
            activation(again, ticket(), kiosk_id=kiosk_id, now=now)
        assert used.value.events[0].reason == "invalid"


def test_q7_a_yes_from_booking_without_our_ticket_issues_it_within_the_repeat_window_only():
    """The same kiosk's activation whose ticket was never recorded (booking's answer
    came after the kiosk gave up): printed when asked again within the repeat window
    of booking's ``activated_at``; later, or without a time, the code is used."""
    again = {"outcome": "already_activated", **SLOT, "kiosk_id": "k1",
             "activated_at": NOW.isoformat()}
    assert activation(again, None) == []
    assert activation(again, None, now=NOW + POLICY.repeat_window) == []
    for later in (NOW + POLICY.repeat_window + timedelta(seconds=1), NOW + timedelta(days=1)):
        with pytest.raises(domain.InvalidCode):
            activation(again, None, now=later)
    with pytest.raises(domain.InvalidCode):
        activation({**again, "activated_at": None}, None)


# --- tickets (Q-7) ------------------------------------------------------------------

def test_q7_the_next_ticket_takes_the_next_number_of_its_series_and_baku_day():
    late_utc = datetime(2026, 11, 23, 19, 30, tzinfo=timezone.utc)  # 23:30 in Baku
    (event,) = domain.decide_ticket("t-9", 16, "baku-1", "passport", "C", "booked", "k1",
                                    NOW, {"booking_id": "b-1", "time": "10:15"})
    assert event == ("TicketIssued", {
        "ticket_id": "t-9", "centre": "baku-1", "date": "2026-11-24", "number": "C-017",
        "sequence": 17, "series": "booked", "service": "passport", "booking_id": "b-1",
        "booked_time": "10:15", "kiosk_id": "k1", "issued_at": NOW.isoformat()})
    printed = domain.ticket_of(event)
    assert (printed.day, printed.booked_time, printed.issued_at) == \
        (date(2026, 11, 24), time(10, 15), NOW)
    assert domain.ticket_day(late_utc) == date(2026, 11, 23)


def test_q7_a_walk_in_while_the_centre_is_open_has_its_own_series():
    (event,) = domain.decide_walk_in(CATALOGUE, "baku-1", "passport", "k1", "t-1", 2, NOW)
    assert (event.number, event.series, event.booking_id) == \
        ("CW-003", "walk_in", None)


def test_q7_no_walk_in_for_a_service_not_offered_or_while_the_centre_is_closed():
    with pytest.raises(domain.NotOffered):
        domain.decide_walk_in(CATALOGUE, "baku-1", "driving", "k1", "t-1", 0, NOW)
    with pytest.raises(domain.CentreClosed) as evening:
        domain.decide_walk_in(CATALOGUE, "baku-1", "passport", "k1", "t-1", 0,
                              NOW.replace(hour=18))
    assert evening.value.hours == ("09:00", "18:00")
    assert f"today ({day_text(NOW, 'en')}) it is open 09:00–18:00" in evening.value.message.en
    assert f"bu gün ({day_text(NOW, 'az')}) 09:00–18:00" in evening.value.message.az
    with pytest.raises(domain.CentreClosed) as holiday:
        domain.decide_walk_in(CATALOGUE, "baku-1", "passport", "k1", "t-1", 0,
                              datetime(2026, 12, 31, 12, 0, tzinfo=BAKU))
    assert holiday.value.hours is None
    assert f"closed today ({day_text('2026-12-31', 'en')})" in holiday.value.message.en
    assert f"bu gün ({day_text('2026-12-31', 'az')}) işləmir" in holiday.value.message.az


# --- issue 17 §6: days closed by staff ----------------------------------------------

def test_issue17_a_day_closed_by_staff_refuses_walk_ins_of_the_service_or_the_centre():
    catalogue = {"closures": [{"centre": "baku-1", "service": "passport", "date": "2026-11-23"},
                              {"centre": "baku-2", "service": None, "date": "2026-11-23"}]}
    day = date(2026, 11, 23)
    assert domain.closed_by_staff(catalogue, "baku-1", "passport", day)
    assert not domain.closed_by_staff(catalogue, "baku-1", "apostille", day)
    assert domain.closed_by_staff(catalogue, "baku-2", "apostille", day)
    assert not domain.closed_by_staff(catalogue, "baku-1", "passport", date(2026, 11, 24))
    assert not domain.closed_by_staff({}, "baku-1", "passport", day)  # an older booking
