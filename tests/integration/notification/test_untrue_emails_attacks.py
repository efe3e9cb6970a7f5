"""Untrue emails, tried from outside: what a client can send to booking's public API
while the mail relay refuses, and what reaches the citizen once it accepts (the
booking and move emails; Q-4, issue 17 §5), on the real parts of
``test_untrue_emails`` (booking and notification in-process with their relays, the
real PostgreSQL and RabbitMQ, a sink of the test's own that refuses while a file
exists, one clock).

* A move there and back (A → B → A): the move email that says B is never delivered;
  the one that says A is.
* The same, with every request carrying one ``X-Correlation-Id`` of the client's
  choosing, as a client or tool that keeps one id per session does: the public API
  takes a valid UUID from the header as the command's correlation id, so the two
  moves are not told apart by it. What the email says is no truer for that.
"""
import re
import time
import uuid

import pytest
import requests

from tests.integration.notification.test_untrue_emails import (  # noqa: F401 (fixture)
    TOMORROW, _final, _tried_and_refused, stack)
from tests.mailbox import text_of
from tests.markers import wait_until

pytestmark = pytest.mark.integration


def _move(stack, order_code, at, headers):
    answer = requests.post(stack.urls["booking"] + "/bookings/reschedule", headers=headers,
                           json={"order_code": order_code, "date": TOMORROW, "time": at},
                           timeout=30)
    assert answer.status_code == 200, answer.text


def _there_and_back(stack, headers):
    """A booking of tomorrow 10:15 moved to 11:00 while the sink refuses, and back to
    10:15 once its first move email was tried; then the sink accepts. Returns the
    booking's email address."""
    booking, code, to = stack.confirmed("10:15")
    stack.refusing.touch()
    _move(stack, code, "11:00", headers)
    [there] = wait_until(lambda: _moves(stack, booking), "the first move email asked for")
    wait_until(lambda: _tried_and_refused(stack.email_events(there)),
               "the first move email tried and refused")
    _move(stack, code, "10:15", headers)
    intents = wait_until(lambda: len(_moves(stack, booking)) == 2 and _moves(stack, booking),
                         "both move emails asked for")
    time.sleep(1)  # the second move noted, and one more try of the first made with it
    stack.refusing.unlink()
    wait_until(lambda: all(_final(stack.email_events(i)) for i in intents),
               "both move emails delivered or superseded")
    return to


def _moves(stack, booking_id):
    """The intents of the move emails of the booking notification has."""
    return [i for i in stack.history_intents(booking_id) if ":rescheduled:" in i]


def _times_told(stack, to):
    """The times the delivered move emails state, in the order of their sending."""
    return [re.search(r"(?:Yeni tarix və saat|New date and time): .*, (\d\d:\d\d)",
                      text_of(message)).group(1)
            for message in stack.mails(to, "booking_rescheduled")]


def _intents(stack, booking_id):
    response = requests.get(f"{stack.urls['notification']}/emails/booking-{booking_id}",
                            headers={"Authorization": "Bearer operator-dev-token"},
                            timeout=10)
    assert response.status_code == 200, response.text
    return [email["intent_id"] for email in response.json()]


@pytest.fixture
def moving(stack):
    stack.history_intents = lambda booking_id: _intents(stack, booking_id)
    return stack


def test_a_move_there_and_back_delivers_only_the_email_of_where_the_booking_is(moving):
    to = _there_and_back(moving, headers={})
    assert _times_told(moving, to) == ["10:15"]


def test_one_client_correlation_id_on_both_moves_does_not_make_the_old_time_true(moving):
    """The client chose the correlation id of both moves. The email saying 11:00 is
    untrue after the move back to 10:15, whoever asked for both."""
    correlation = {"X-Correlation-Id": str(uuid.uuid4())}
    to = _there_and_back(moving, headers=correlation)
    assert _times_told(moving, to) == ["10:15"]
