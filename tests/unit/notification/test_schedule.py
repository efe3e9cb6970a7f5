"""The email retry schedule, pure (issue 12 item 5): a temporary failure is tried
again for as long as the email is of use — the confirmation code while the hold
lasts (Q-2), the order code until the visit (Q-4) — and final only when the next try
would come too late."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notification.schedule import RetrySchedule
from services.notification.settings import NotificationSettings
from shared.runtime.config import service_config

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
# The schedule config.yaml ships (EMAIL_RETRY_SCHEDULE_SECONDS, EVENT_RETRY_DELAYS_MS).
SHIPPED = NotificationSettings.from_config(service_config("notification")).retry_schedule


def tries_until_given_up(schedule, deliver_by, limit=10_000):
    """Seconds after the first try of every try made when every try fails."""
    at, made = 0.0, [0.0]
    while len(made) < limit:
        delay = schedule.next_try_in(len(made), T0 + timedelta(seconds=at), deliver_by)
        if delay is None:
            return made
        at += delay
        made.append(at)
    raise AssertionError("never gave up")


def test_q2_a_code_email_keeps_trying_while_the_code_is_valid():
    made = tries_until_given_up(SHIPPED, T0 + timedelta(minutes=15))
    assert made == [0, 30, 90, 210, 510]  # 8.5 min; the next (18.5 min) would be too late
    assert len(made) > 4  # the old schedule: the first try and three retries in 36 s


def test_q4_an_order_code_email_keeps_trying_until_the_visit_every_half_hour_at_last():
    visit = T0 + timedelta(days=2)
    made = tries_until_given_up(SHIPPED, visit)
    assert made[:8] == [0, 30, 90, 210, 510, 1110, 2010, 3810]
    assert {b - a for a, b in zip(made[7:], made[8:])} == {1800}  # then every 30 min
    assert made[-1] < 2 * 24 * 3600 <= made[-1] + 1800  # the last try before the visit


def test_the_last_step_repeats():
    schedule = RetrySchedule(steps=(10, 20), legacy=())
    far = T0 + timedelta(days=1)
    assert [schedule.next_try_in(n, T0, far) for n in (1, 2, 3, 50)] == [10, 20, 20, 20]


def test_a_try_at_or_after_deliver_by_is_not_made():
    schedule = RetrySchedule(steps=(30,), legacy=())
    assert schedule.next_try_in(1, T0, T0 + timedelta(seconds=30)) is None
    assert schedule.next_try_in(1, T0, T0 + timedelta(seconds=30.5)) == 30
    assert schedule.next_try_in(1, T0, T0 - timedelta(seconds=1)) is None  # already past


def test_a_request_without_deliver_by_keeps_the_old_three_retries():
    schedule = RetrySchedule(steps=(30,), legacy=(1, 5, 30))
    assert [schedule.next_try_in(n, T0, None) for n in (1, 2, 3, 4)] == [1, 5, 30, None]


def test_the_shipped_schedule_and_a_schedule_without_steps():
    assert SHIPPED == RetrySchedule(steps=(30, 60, 120, 300, 600, 900, 1800), legacy=(1, 5, 30))
    with pytest.raises(ValueError):
        RetrySchedule(steps=(), legacy=())
    with pytest.raises(ValueError):
        RetrySchedule(steps=(30, 0), legacy=())
