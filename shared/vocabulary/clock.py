"""The one clock, and Baku days.

Every rule that counts days or hours (Q-1 "a day before", the one-month complaint
deadline of C-3, the day a FIN query is registered under F-6, a ticket's day, a
centre's opening hours…) counts them in Asia/Baku, from the *service's* clock: a
nameko dependency a test replaces (``shared.runtime.worker_clock.Clock``) to run a rule on
either side of Baku midnight. Nothing else asks the machine for the time of day:
``date.today()`` and a naive ``datetime.now()`` are the machine's day, which is not
Baku's between 20:00 and 24:00 UTC (a test greps the code for them). This module
imports no nameko, so a pure domain may use it.

    now = self.clock()               # aware, UTC
    baku_today(now)                  # the Baku date of that instant
    baku_now(now).time()             # the Baku wall-clock time
"""
import contextvars
from contextlib import contextmanager
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

BAKU = ZoneInfo("Asia/Baku")


def utcnow():
    """Now, as an aware UTC datetime: the only call that reads the machine's clock."""
    return datetime.now(timezone.utc)


def baku_now(now=None):
    """``now`` (aware; default: the machine's clock) as Baku wall-clock time."""
    if now is None:
        now = utcnow()
    if now.tzinfo is None:
        raise ValueError("a naive datetime has no place on the clock: give it a zone")
    return now.astimezone(BAKU)


def baku_today(now=None):
    """The Baku date of the instant ``now`` (Q-1, C-3, F-6: days are Baku days)."""
    return baku_now(now).date()


def baku_datetime(day: date, moment: time = time(0)):
    """The aware instant of wall-clock ``moment`` on ``day`` in Baku."""
    return datetime.combine(day, moment, tzinfo=BAKU)


_TODAY = contextvars.ContextVar("asan_validation_today")


@contextmanager
def validating_on(day: date):
    """Schemas loaded inside this block judge "not in the future" rules (a birth
    date, F-2) against ``day``: the Baku date of the service's clock, not the
    machine's. Each eventlet worker has its own context."""
    token = _TODAY.set(day)
    try:
        yield
    finally:
        _TODAY.reset(token)


def validation_today():
    """The day set by :func:`validating_on` (services set it from their clock);
    outside of one, the Baku day of the machine's clock."""
    try:
        return _TODAY.get()
    except LookupError:
        return baku_today()
