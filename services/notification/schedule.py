"""When to try an email again after a temporary failure (a 4xx, e.g. greylisting) or a
technical one (no SMTP conversation), pure.

A mail server that greylists answers 451 to the first tries and takes the email
minutes later; one that is down may be back within the hour. Three retries in 36
seconds gave up long before either, while the confirmation code was still valid for
15 minutes. GOV.UK Notify keeps trying for hours; we keep trying for as long as the
email is of use, which its sender says in the request's ``deliver_by``: the hold's
expiry for a confirmation code (Q-2), the visit for an order code (Q-4), 72 hours for a
receipt. Tries follow ``EMAIL_RETRY_SCHEDULE_SECONDS`` (config.yaml; the last step
repeats), and a try that would come at or after ``deliver_by`` is not made: the
failure is then final.

A request without ``deliver_by`` (queued before it existed) keeps what it had: the
consumer's retry delays (``EVENT_RETRY_DELAYS_MS``), then final.

    schedule = RetrySchedule(steps=(30, 60), legacy=(1, 5, 30))
    schedule.next_try_in(failures=1, now=now, deliver_by=now + timedelta(minutes=15))  # 30
"""
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetrySchedule:
    """When a failed email is tried again: ``steps`` (seconds after each failure, the last
    repeated) until the request's ``deliver_by``; ``legacy`` for a request without it."""
    steps: tuple  # seconds after the 1st, 2nd, … failed try
    legacy: tuple  # for a request without deliver_by

    def __post_init__(self):
        if not self.steps or any(step <= 0 for step in self.steps):
            raise ValueError(f"an email retry schedule needs positive steps: {self.steps}")

    def next_try_in(self, failures, now, deliver_by):
        """Seconds until the next try after ``failures`` failed tries in a row (1 or
        more), or ``None``: no more tries, the failure is final."""
        if deliver_by is None:
            return self.legacy[failures - 1] if failures <= len(self.legacy) else None
        delay = self.steps[min(failures, len(self.steps)) - 1]
        return delay if now + timedelta(seconds=delay) < deliver_by else None
