"""The clock the in-process stacks share: the test sets the time (Baku). A booking
must be made a day ahead (Q-1) and activated at its time (Q-7).

A new clock reads Monday 23 November 2026, 10:00 in Baku (``START``): the tests that
write their days out in full count from it. A test that derives its days from the
clock (``tests.days``) starts it at ``tests.days.test_clock_start()`` instead, which
``ASAN_TEST_CLOCK`` moves to any instant (tests/days.py says how)."""
import time
from datetime import datetime, timedelta

from shared.vocabulary.clock import BAKU

START = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)


class Clock:
    def __init__(self, start=None):
        self.now = start or START

    def set(self, day, at):
        self.now = datetime.fromisoformat(f"{day}T{at}").replace(tzinfo=BAKU)

    def __call__(self):
        return self.now


def running(start=START):
    """A clock that reads ``start`` first and then runs at the real pace, whatever the
    hour of the run (a real-time window, such as a hold of a second, on a test day)."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)
