"""The rules of sending one email, pure (D-1, issue 16): given an email's events, when a
request (or a try's outcome), then these events or the refusal. Exactly one email per
intent (Q-2, Q-4, C-1, C-3); temporary failures tried while the email is of use
(issue 12 item 5)."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.notification import domain
from services.notification.events import (EmailCreated, EmailDelivered, EmailPermanentFailure,
                                          EmailTechnicalFailure, EmailTemporaryFailure)
from services.notification.settings import NotificationSettings
from shared.runtime.config import service_config

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SCHEDULE = NotificationSettings.from_config(service_config("notification")).retry_schedule
INTENT = "5b0e-booking:confirmation-code"
REQUEST = domain.Request(INTENT, "booking_confirmation_code", 3, "en", "booking-5b0e",
                         "leyla@example.az", deliver_by=NOW + timedelta(minutes=15))
COMMON = {"intent_id": INTENT, "template": "booking_confirmation_code",
          "template_version": 3, "reference": "booking-5b0e"}


@dataclass(frozen=True)
class Outcome:
    status: str
    detail: str = ""
    smtp_code: int | None = None


CREATED = EmailCreated(**COMMON, language="en", requested_at=NOW.isoformat(),
                       deliver_by=(NOW + timedelta(minutes=15)).isoformat(),
                       recipient="leyla@example.az")


def failed(kind, attempt, will_retry=True):
    return kind(**COMMON, attempt=attempt, will_retry=will_retry,
                retry_in_seconds=30 if will_retry else None, smtp_code=451, detail="greylisted")


def given(*events):
    return domain.fold(events)


def test_q2_the_first_request_creates_the_email_with_its_recipient_and_deadline():
    assert domain.decide_send(given(), REQUEST, NOW) == [CREATED]


def test_a_request_without_deliver_by_creates_an_email_without_one():
    request = domain.Request(INTENT, "booking_order_code", 1, "az", "booking-5b0e", "a@b.az")
    [created] = domain.decide_send(given(), request, NOW)
    assert isinstance(created, EmailCreated) and created.deliver_by is None
    assert given(created).deliver_by is None


@pytest.mark.parametrize("final", [EmailDelivered(**COMMON, attempt=1),
                                   failed(EmailPermanentFailure, 1, will_retry=False)])
def test_q4_a_delivered_or_refused_email_is_never_sent_again(final):
    with pytest.raises(domain.AlreadyDealtWith) as refused:
        domain.decide_send(given(CREATED, final), REQUEST, NOW)
    assert refused.value.status == domain.STATUS_OF[type(final)]


@pytest.mark.parametrize("kind", [EmailTemporaryFailure, EmailTechnicalFailure])
def test_issue12_an_email_that_failed_for_now_is_tried_again_without_a_second_created(kind):
    state = given(CREATED, failed(kind, 1))
    assert domain.decide_send(state, REQUEST, NOW) == []
    assert (state.status, state.attempts, state.version) == (domain.STATUS_OF[kind], 1, 2)


def test_q2_a_delivered_try_is_recorded_with_its_attempt_number():
    state = given(CREATED, failed(EmailTemporaryFailure, 1), failed(EmailTemporaryFailure, 2))
    assert domain.decide_outcome(state, REQUEST, Outcome(domain.DELIVERED), NOW, SCHEDULE) == [
        EmailDelivered(**COMMON, attempt=3)]


def test_issue12_a_temporary_failure_is_tried_again_while_the_code_is_valid():
    events = domain.decide_outcome(given(CREATED), REQUEST,
                                   Outcome(domain.TEMPORARY, "greylisted", 451), NOW, SCHEDULE)
    assert events == [EmailTemporaryFailure(
        **COMMON, attempt=1, will_retry=True, retry_in_seconds=30, smtp_code=451,
        detail="greylisted")]


def test_issue12_a_failure_whose_next_try_would_come_too_late_is_final():
    late = NOW + timedelta(minutes=14, seconds=45)  # the next try (30 s) after deliver_by
    [failure] = domain.decide_outcome(given(CREATED), REQUEST,
                                      Outcome(domain.TECHNICAL, "refused"), late, SCHEDULE)
    assert isinstance(failure, EmailTechnicalFailure)
    assert (failure.will_retry, failure.retry_in_seconds) == (False, None)


def test_a_permanent_failure_is_never_retried():
    [failure] = domain.decide_outcome(given(CREATED), REQUEST,
                                      Outcome(domain.PERMANENT, "no such user", 550),
                                      NOW, SCHEDULE)
    assert isinstance(failure, EmailPermanentFailure)
    assert (failure.will_retry, failure.smtp_code) == (False, 550)
    with pytest.raises(domain.AlreadyDealtWith):
        domain.decide_send(given(CREATED, failure), REQUEST, NOW)


def test_a_request_from_before_deliver_by_gets_the_old_three_retries():
    created = EmailCreated(**{**CREATED.data, "deliver_by": None})
    history = [created] + [failed(EmailTemporaryFailure, n) for n in (1, 2, 3)]
    [failure] = domain.decide_outcome(given(*history), REQUEST,
                                      Outcome(domain.TEMPORARY, "greylisted", 451),
                                      NOW, SCHEDULE)
    assert (failure.attempt, failure.will_retry) == (4, False)


def test_d1_the_state_is_the_fold_of_the_events():
    state = given(CREATED, failed(EmailTechnicalFailure, 1), EmailDelivered(**COMMON, attempt=2))
    assert state == domain.Email(INTENT, domain.DELIVERED, 2, NOW + timedelta(minutes=15), 3)
    assert state.stream_id == f"email-{INTENT}"
