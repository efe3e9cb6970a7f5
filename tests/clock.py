"""The clock the in-process stacks share: the test sets the time (Baku). A booking
must be made a day ahead (Q-1) and activated at its time (Q-7)."""
from datetime import datetime

from shared.clock import BAKU


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)

    def set(self, day, at):
        self.now = datetime.fromisoformat(f"{day}T{at}").replace(tzinfo=BAKU)

    def __call__(self):
        return self.now
