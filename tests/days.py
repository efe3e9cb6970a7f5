"""The days and hours a test needs, from the product's own calendar.

A test that needs a day a visit can be booked, an hour a centre is open, a day it is
closed, a public holiday or an ID card that is valid asks here: never weekday
arithmetic, never a year written out. The answers come from what the services run —
booking's reference data and settings as ``BookingConfig`` loads them (the
``holidays`` library, ``EXTRA_CLOSED_DAYS`` and ``HORIZON_DAYS`` of its config, the
hours of ``centres.yaml``), its rule for a visit (``domain.visit_problems``, run on
every booking request) and the registry's validity of an ID card — counted from the
clock the test runs on:

* the real clock (the running platform, a service in a process of its own): leave
  ``now`` out; it is ``shared.vocabulary.clock.utcnow()``, the instant the services read;
* a test clock (``tests.clock.Clock``): pass its ``now``. A test that derives its
  days from its test clock starts that clock at :func:`clock_start`, which
  ``ASAN_TEST_CLOCK`` moves (Baku wall-clock time, ISO 8601), so that the test can be
  run as on 28 or 29 December or on the eve of a holiday::

      ASAN_TEST_CLOCK=2026-12-29T23:30 .venv/bin/pytest tests/integration/web/...

On the real clock a service judges a request a moment after the test chose its day,
maybe after Baku midnight: days are chosen at least ``MARGIN`` days ahead by default,
so that the next Baku day still accepts them, and a card is valid for years.

Days are ``datetime.date``, times ``"HH:MM"`` strings as the API takes them. A
question with no answer raises ``AssertionError`` saying what was asked.
tests/unit/test_days.py asks each question for every day of the next three years, at
each hour around Baku midnight, and checks that the product accepts every answer.
"""
import os
from datetime import datetime, timedelta
from types import SimpleNamespace

from services.booking import domain as booking
from services.booking.service import BookingConfig
from services.registry.population import ADULT_CARD_YEARS, years_after, years_before
from shared.vocabulary.clock import BAKU, baku_datetime, baku_today, utcnow
from shared.runtime.config import service_config
from tests.clock import START


def _booking_config():
    """Booking's reference data and settings, loaded by the service's own provider
    from its config file (as ``make run`` starts it)."""
    provider = BookingConfig()
    provider.container = SimpleNamespace(config=service_config("booking"))
    provider.setup()
    return provider


_BOOKING = _booking_config()
REFERENCE = _BOOKING.reference   # services.booking.reference.ReferenceData
POLICY = _BOOKING.settings.policy
HORIZON = POLICY.horizon_days     # days ahead a visit may be booked
MARGIN = 2                        # days ahead by default: one Baku midnight may pass
CENTRE, SERVICE = "baku-1", "passport"
LONGEST_CLOSURE = 14              # days in a row no visit can be booked, at most


def clock_start():
    """The instant a test clock starts at for a test that derives its days from it:
    ``ASAN_TEST_CLOCK`` (``2026-12-28T10:00``, Baku wall-clock time, or with a zone),
    else ``tests.clock.START``."""
    moment = os.environ.get("ASAN_TEST_CLOCK")
    if not moment:
        return START
    moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=BAKU)


def today(now=None):
    """The Baku day of ``now`` (default: the real clock, as the services read it)."""
    return baku_today(now or utcnow())


def _centre(code):
    centre = REFERENCE.centres.get(code)
    if centre is None:
        raise ValueError(f"no centre {code!r} in centres.yaml")
    return centre


def _window(now, ahead):
    """The days from ``ahead`` days after today to the booking horizon."""
    first = today(now)
    return (first + timedelta(days=n) for n in range(ahead, HORIZON + 1))


def _problems(centre, service, day, at, now):
    """The reasons booking's rule gives against a visit (their codes)."""
    if isinstance(at, str):
        at = datetime.strptime(at, "%H:%M").time()
    visit = booking.Visit(centre, service, day, at)
    return {reason.code for reason in booking.visit_problems(visit, REFERENCE, now, POLICY)}


def _slot_times(day, centre, service):
    if service not in _centre(centre).services:
        raise ValueError(f"{centre} does not offer {service}")
    return REFERENCE.slot_times(_centre(centre), REFERENCE.services[service], day)


def slots(day, centre=CENTRE, service=SERVICE):
    """The slots of ``service`` at ``centre`` on ``day``, ``["HH:MM", …]`` (none on a
    day it is closed)."""
    return [moment.strftime("%H:%M") for moment in _slot_times(day, centre, service)]


def slot(day, centre=CENTRE, service=SERVICE):
    """The first slot of ``service`` at ``centre`` on ``day``, ``"HH:MM"``."""
    found = _slot_times(day, centre, service)
    assert found, f"{centre} has no slot of {service} on {day}"
    return found[0].strftime("%H:%M")


def _bookable(now, centre, service, ahead):
    now = now or utcnow()
    for day in _window(now, ahead):
        times = _slot_times(day, centre, service)
        if times and not _problems(centre, service, day, times[0], now):
            yield day


def bookable_days(now=None, centre=CENTRE, service=SERVICE, ahead=MARGIN):
    """Every day from ``ahead`` days after today (Baku) to the horizon on which a visit
    for ``service`` at ``centre`` is bookable at ``now`` by booking's own rule (Q-1: a
    day ahead, within the horizon, not a holiday, a day the centre opens), in order."""
    return list(_bookable(now, centre, service, ahead))


def bookable_day(now=None, centre=CENTRE, service=SERVICE, ahead=MARGIN):
    """The first bookable day (:func:`bookable_days`) at least ``ahead`` days after
    today; found for any ``ahead`` up to ``HORIZON - LONGEST_CLOSURE``."""
    day = next(_bookable(now, centre, service, ahead), None)
    assert day, (f"no day from {ahead} to {HORIZON} days after {today(now)} to book"
                 f" {service} at {centre}")
    return day


def closed_day(now=None, centre=CENTRE, ahead=MARGIN):
    """A day a booking can reach (``ahead`` days after today … the horizon) on which
    ``centre`` does not open by its weekly hours and that is no holiday: a visit then
    is refused ``closed`` (a holiday's is refused ``holiday``)."""
    for day in _window(now or utcnow(), ahead):
        if REFERENCE.holiday(day) is None and REFERENCE.hours(_centre(centre), day) is None:
            return day
    raise AssertionError(f"{centre} opens every day of the next {HORIZON} after {today(now)}")


def holiday(now=None, ahead=MARGIN):
    """The first public holiday (or day closed by decision) a booking can reach
    (``ahead`` days after today … the horizon), or ``None`` when none falls there (from
    July to October, most years)."""
    for day in _window(now or utcnow(), ahead):
        if REFERENCE.holiday(day):
            return day
    return None


def next_holiday(now=None):
    """The first public holiday (or day closed by decision) after today, however far
    (the next 31 December at the latest)."""
    day = today(now) + timedelta(days=1)
    while not REFERENCE.holiday(day):
        day += timedelta(days=1)
    return day


def holiday_name(day):
    """The name the product gives the holiday on ``day`` (in its refusal), or ``None``."""
    return REFERENCE.holiday(day)


def open_hour(day, centre=CENTRE):
    """``"HH:MM"`` in the middle of ``centre``'s opening hours on ``day``, away from
    either end (Baku wall-clock time)."""
    hours = REFERENCE.hours(_centre(centre), day)
    assert hours, f"{centre} is closed on {day}"
    opens, closes = (datetime.combine(day, moment) for moment in hours)
    return (opens + (closes - opens) / 2).strftime("%H:%M")


def open_moment(now=None, centre=CENTRE, ahead=0):
    """The first instant (aware, Baku), from ``ahead`` days after today and not before
    ``now``, that is the middle of ``centre``'s opening hours (:func:`open_hour`):
    where to set a test clock for walk-ins and counters."""
    now = now or utcnow()
    day = today(now) + timedelta(days=ahead)
    for _ in range(LONGEST_CLOSURE + 2):
        if REFERENCE.hours(_centre(centre), day):
            moment = baku_datetime(day, datetime.strptime(open_hour(day, centre),
                                                          "%H:%M").time())
            if moment >= now:
                return moment
        day += timedelta(days=1)
    raise AssertionError(f"{centre} does not open for {LONGEST_CLOSURE} days after {today(now)}")


def card_dates(now=None):
    """``{"issued_on", "expires_on"}`` (ISO) of an adult's ID card issued a year before
    today and valid its full term (``ADULT_CARD_YEARS``) from then: valid today, and
    for years after (F-1 answers only a card not yet expired)."""
    issued = years_before(today(now), 1)
    return {"issued_on": issued.isoformat(),
            "expires_on": years_after(issued, ADULT_CARD_YEARS).isoformat()}


def card_valid_through(now=None):
    """The day a card must not expire before to answer for the whole test: tomorrow
    (Baku), so that a Baku midnight during the test does not expire it."""
    return today(now) + timedelta(days=1)
