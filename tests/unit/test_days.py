"""Issue 22 §2: tests.days answers every question a test asks of the calendar, every day.

Each question is asked with every day of the next three years as today, at each hour
around Baku midnight (22:00 … 02:00 and a second before midnight; noon for the rest),
and each answer is checked with the rule the product itself runs on it: booking's
``visit_problems`` (Q-1) at that instant and three hours later — past a Baku midnight
for the late hours, as when a service judges a request the test prepared before
midnight — the kiosk gateway's ``check_open`` for walk-ins, and the registry's card
schema and "not expired" (F-1).
"""
from datetime import date, datetime, time, timedelta

from services.kiosk_gateway import domain as kiosk
from services.registry.schemas import CardBody
from shared.vocabulary.clock import baku_datetime, baku_today
from tests import days

FIRST = baku_today()
EVERY_DAY = [FIRST + timedelta(days=n) for n in range((date(FIRST.year + 3, FIRST.month, 1)
                                                       - FIRST.replace(day=1)).days + 1)]
AROUND_MIDNIGHT = (time(0), time(1), time(2), time(22), time(23), time(23, 59, 59))
EVERY_HOUR_ASKED = AROUND_MIDNIGHT + (time(12),)
LATER = timedelta(hours=3)
# every centre with one of its services, and every service at the first centre
PAIRS = sorted({(code, min(centre.services)) for code, centre in days.REFERENCE.centres.items()}
               | {(days.CENTRE, code) for code in days.REFERENCE.centres[days.CENTRE].services})


def instants(moments=EVERY_HOUR_ASKED):
    for day in EVERY_DAY:
        for moment in moments:
            yield baku_datetime(day, moment)


def problems(centre, service, day, at, now):
    return days._problems(centre, service, day, at, now)


def none_of(failures):
    assert not failures, f"{len(failures)} failures, the first: {failures[:10]}"


def test_the_three_years_are_every_day_of_them():
    assert len(EVERY_DAY) >= 3 * 365 and EVERY_DAY[-1] - EVERY_DAY[0] >= timedelta(days=3 * 365)
    assert all(b - a == timedelta(days=1) for a, b in zip(EVERY_DAY, EVERY_DAY[1:]))


def test_a_bookable_day_is_bookable_then_and_after_baku_midnight():
    failures = []
    for now in instants():
        for centre, service in [(days.CENTRE, days.SERVICE), ("baku-1", "apostille")]:
            day = days.bookable_day(now, centre, service)
            at = days.slot(day, centre, service)
            if day < days.today(now) + timedelta(days=days.MARGIN) or \
                    problems(centre, service, day, at, now) or \
                    problems(centre, service, day, at, now + LATER):
                failures.append((now, centre, service, day))
    none_of(failures)


def test_a_bookable_day_of_every_service_at_every_centre():
    failures = []
    for now in instants((time(12),)):
        for centre, service in PAIRS:
            day = days.bookable_day(now, centre, service)
            if problems(centre, service, day, days.slot(day, centre, service), now):
                failures.append((now, centre, service, day))
    none_of(failures)


def test_n_days_ahead_is_found_for_every_n_up_to_the_horizon_less_the_longest_closure():
    failures = []
    for now in instants((time(12),)):
        for ahead in range(1, days.HORIZON - days.LONGEST_CLOSURE + 1):
            day = days.bookable_day(now, ahead=ahead)
            if day < days.today(now) + timedelta(days=ahead) or \
                    problems(days.CENTRE, days.SERVICE, day, days.slot(day), now):
                failures.append((now, ahead, day))
    none_of(failures)


def test_tomorrow_or_later_on_a_test_clock_at_every_hour_around_midnight():
    failures = []
    for now in instants(AROUND_MIDNIGHT):
        day = days.bookable_day(now, ahead=1)
        if day <= days.today(now) or \
                problems(days.CENTRE, days.SERVICE, day, days.slot(day), now):
            failures.append((now, day))
    none_of(failures)


def test_a_closed_day_is_refused_closed_not_holiday_then_and_after_midnight():
    failures = []
    for now in instants():
        centres = days.REFERENCE.centres if now.hour == 12 else [days.CENTRE]
        for centre in centres:
            day = days.closed_day(now, centre)
            for judged in (now, now + LATER):
                service = min(days.REFERENCE.centres[centre].services)
                if problems(centre, service, day, "12:00", judged) != {"closed"}:
                    failures.append((now, centre, day))
    none_of(failures)


def test_a_holiday_within_the_horizon_is_refused_holiday_and_none_is_missed():
    failures, found = [], 0
    for now in instants():
        day = days.holiday(now)
        window = [days.today(now) + timedelta(days=n)
                  for n in range(days.MARGIN, days.HORIZON + 1)]
        if day is None:
            if any(days.holiday_name(d) for d in window):
                failures.append((now, "missed"))
            continue
        found += 1
        for judged in (now, now + LATER):
            if problems(days.CENTRE, days.SERVICE, day, "12:00", judged) != {"holiday"}:
                failures.append((now, day))
    none_of(failures)
    assert found  # 28 December's horizon holds 31 December and 1 January every year


def test_the_next_holiday_is_always_found_and_is_one():
    failures = []
    for now in instants(AROUND_MIDNIGHT):
        day = days.next_holiday(now)
        if not (days.today(now) < day <= days.today(now) + timedelta(days=366)) or \
                not days.holiday_name(day):
            failures.append((now, day))
    none_of(failures)


def _catalogue():
    """The catalogue booking gives the kiosk gateway (hours, closed days), for the
    three years at once."""
    reference = days.REFERENCE
    closed = {day.isoformat() for day in (EVERY_DAY[0] + timedelta(days=n)
                                          for n in range(-1, len(EVERY_DAY) + 400))
              if reference.holiday(day)}
    return {"centres": {code: {"services": sorted(centre.services),
                               "hours": centre.as_dict()["hours"]}
                        for code, centre in reference.centres.items()},
            "closed_days": closed}


def test_an_open_moment_is_one_at_which_the_kiosk_gateway_prints_a_walk_in():
    catalogue, failures = _catalogue(), []
    for now in instants():
        centres = days.REFERENCE.centres if now.hour == 12 else [days.CENTRE, "quba"]
        for centre in centres:
            moment = days.open_moment(now, centre)
            try:
                kiosk.check_open(catalogue, centre, moment)
            except kiosk.CentreClosed:
                failures.append((now, centre, moment))
            if moment < now:
                failures.append((now, centre, moment, "before now"))
    none_of(failures)


def test_an_open_hour_is_within_the_hours_of_every_open_day():
    failures = []
    for day in EVERY_DAY:
        for code, centre in days.REFERENCE.centres.items():
            hours = days.REFERENCE.hours(centre, day)
            if hours is None:
                continue
            at = datetime.strptime(days.open_hour(day, code), "%H:%M").time()
            if not hours[0] < at < hours[1]:
                failures.append((day, code, at))
    none_of(failures)


def test_an_id_card_is_valid_today_and_after_midnight_as_the_registry_reads_it():
    failures = []
    for now in instants(AROUND_MIDNIGHT):
        card = CardBody().load(days.card_dates(now) | {"series_number": "AZE10000001"})
        later = days.today(now + LATER)
        if not (card["issued_on"] <= days.today(now) and card["expires_on"] >= later
                and card["expires_on"] >= days.card_valid_through(now)):
            failures.append((now, card))
    none_of(failures)


def test_on_28_and_29_december_weekday_arithmetic_lands_on_a_holiday_and_the_helper_does_not():
    """What broke the graceful-stop test: "today + 3, skipping weekends"."""
    for year in sorted({day.year for day in EVERY_DAY}):
        for today in (date(year, 12, 28), date(year, 12, 29)):
            naive = today + timedelta(days=3)
            while naive.weekday() >= 5:
                naive += timedelta(days=1)
            now = baku_datetime(today, time(10))
            day = days.bookable_day(now, "baku-1", "apostille")
            assert not problems("baku-1", "apostille", day, days.slot(day, "baku-1", "apostille"),
                                now)
            if naive.month == 1 and naive.day <= 2 or naive.month == 12 and naive.day == 31:
                assert days.holiday_name(naive)


def test_asan_test_clock_moves_the_start_of_a_derived_test_clock(monkeypatch):
    from tests.clock import START

    monkeypatch.delenv("ASAN_TEST_CLOCK", raising=False)
    assert days.clock_start() == START
    monkeypatch.setenv("ASAN_TEST_CLOCK", "2026-12-29T23:30")
    assert days.clock_start() == baku_datetime(date(2026, 12, 29), time(23, 30))
    monkeypatch.setenv("ASAN_TEST_CLOCK", "2026-12-29T20:00:00+00:00")
    assert days.today(days.clock_start()) == date(2026, 12, 30)
