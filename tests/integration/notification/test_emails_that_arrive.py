"""Emails that arrive (issue 12 item 5), with the notification service in-process on
the real broker and database, its clock replaced, its schedule scaled down to tenths
of a second, and a mail sink of the test's own:

* ``leyla@bakı.az`` goes out as ``leyla@xn--bak-lua.az``, which a relay without
  SMTPUTF8 takes (it used to be a technical failure);
* a temporary failure is tried again while the email is of use — a code email while
  the code is valid (Q-2) — not three times in 36 seconds: a greylisted code email
  arrives at the fifth try; one always refused is tried until the clock passes
  ``deliver_by``, and only then is the failure final (``will_retry`` false);
* still exactly one email per intent.
"""
import uuid
from datetime import timedelta

import pytest
from nameko.testing.services import replace_dependencies

from services.notification.service import NotificationService
from shared.runtime.config import service_config
from tests.conftest import unused_port
from tests.clock import Clock
from tests.integration.notification.emails import (email_state, events_of, given_up, request,
                                                   send, wait_for_events)
from tests.markers import handler_quiet

pytestmark = pytest.mark.integration

SCALED = {"EVENT_RETRY_DELAYS_MS": [100, 200], "EVENT_REDELIVERY_DELAYS_MS": [100, 200],
          "EMAIL_RETRY_SCHEDULE_SECONDS": [0.1, 0.2]}
HOLD = timedelta(minutes=15)


@pytest.fixture
def notification(container_factory, rabbit_config, fresh_database, own_mail_sink):
    """``notification(smtputf8=True)`` → (database URL, clock, sink, AMQP URI, the
    running container)."""
    def start(**sink_options):
        sink = own_mail_sink(**sink_options)
        container = container_factory(NotificationService, dict(
            service_config("notification"), **rabbit_config, DATABASE_URL=fresh_database,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{unused_port()}", **SCALED, **sink.config))
        clock = Clock()
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        return fresh_database, clock, sink, rabbit_config["AMQP_URI"], container
    return start


def failures(events):
    return [data for kind, data in events if kind in ("EmailTemporaryFailure",
                                                      "EmailTechnicalFailure")]


def test_a_unicode_domain_goes_out_in_its_ascii_form_through_a_relay_without_smtputf8(
        notification):
    database, clock, sink, amqp_uri, _ = notification(smtputf8=False)
    local = f"leyla-{uuid.uuid4().hex[:8]}"
    message = request(f"{local}@bakı.az", deliver_by=clock.now + HOLD)
    send(amqp_uri, message)
    (status, attempts), events = email_state(database, message.data["intent_id"])
    assert (status, attempts) == ("delivered", 1)
    [mail] = sink.messages_to(f"{local}@xn--bak-lua.az")
    assert mail["X-Envelope-To"] == f"{local}@xn--bak-lua.az"
    assert mail["To"] == f"{local}@xn--bak-lua.az"


def test_an_old_request_with_a_unicode_local_part_is_refused_for_good_by_such_a_relay(
        notification):
    """The forms refuse such an address now (email_local_part); one queued before
    cannot go through a relay without SMTPUTF8, however often it is tried."""
    database, clock, sink, amqp_uri, _ = notification(smtputf8=False)
    message = request(f"ləylə-{uuid.uuid4().hex[:8]}@bakı.az", deliver_by=clock.now + HOLD)
    send(amqp_uri, message)
    (status, attempts), events = email_state(database, message.data["intent_id"])
    assert (status, attempts) == ("permanent-failure", 1)
    failure = events_of(database, message.data["intent_id"])[-1][1]
    assert "SMTPUTF8" in failure["detail"] and failure["will_retry"] is False


def test_q2_a_greylisted_code_email_is_tried_more_than_three_times_and_arrives_in_time(
        notification):
    database, clock, sink, amqp_uri, _ = notification(greylist_refusals=4)
    to = f"greylist-{uuid.uuid4().hex[:8]}@example.az"
    message = request(to, deliver_by=clock.now + HOLD)
    send(amqp_uri, message)
    (status, attempts), types = email_state(database, message.data["intent_id"])
    assert (status, attempts) == ("delivered", 5)  # the old schedule gave up after 3 or 4
    assert types == ["EmailCreated"] + ["EmailTemporaryFailure"] * 4 + ["EmailDelivered"]
    refused = failures(events_of(database, message.data["intent_id"]))
    assert [(f["attempt"], f["smtp_code"], f["will_retry"], f["retry_in_seconds"])
            for f in refused] == [(1, 451, True, 0.1), (2, 451, True, 0.2),
                                  (3, 451, True, 0.2), (4, 451, True, 0.2)]
    assert len(sink.messages_to(to)) == 1


def test_a_greylisted_email_requested_twice_is_still_sent_once(notification):
    database, clock, sink, amqp_uri, container = notification(greylist_refusals=3)
    to = f"greylist-{uuid.uuid4().hex[:8]}@example.az"
    message = request(to, deliver_by=clock.now + HOLD)
    send(amqp_uri, message, message)  # two copies, each asking to be tried again
    (status, _), types = email_state(database, message.data["intent_id"])
    assert status == "delivered" and types.count("EmailDelivered") == 1
    handler_quiet(container, "on_booking_email")  # every redelivery of either copy is back
    assert [kind for kind, _ in events_of(database, message.data["intent_id"])] == types
    assert len(sink.messages_to(to)) == 1


@pytest.mark.parametrize("prefix, event, state", [
    ("refuse-temp", "EmailTemporaryFailure", "temporary-failure"),  # 451, every time
    ("drop", "EmailTechnicalFailure", "technical-failure"),  # the server hangs up
])
def test_q2_a_code_email_that_never_gets_through_is_tried_until_the_code_expires(
        notification, prefix, event, state):
    database, clock, sink, amqp_uri, container = notification()
    expires = clock.now + HOLD
    message = request(f"{prefix}-{uuid.uuid4().hex[:8]}@example.az", deliver_by=expires)
    intent = message.data["intent_id"]
    send(amqp_uri, message)

    # While the clock stands before the code's expiry, it keeps trying.
    events = wait_for_events(database, intent, lambda e: len(failures(e)) >= 6)
    assert len(failures(events)) >= 6  # more than the old first try and three retries
    assert all(f["will_retry"] for f in failures(events))

    clock.now = expires - timedelta(seconds=0.15)  # the next try would come too late
    events = wait_for_events(database, intent, given_up)
    final = failures(events)[-1]
    assert events[-1][0] == event and final["will_retry"] is False
    assert final["retry_in_seconds"] is None
    assert all(f["will_retry"] for f in failures(events)[:-1])

    handler_quiet(container, "on_booking_email")  # a redelivery asked for would be back
    (status, attempts), types = email_state(database, intent)
    assert status == state and attempts == len(failures(events)) == types.count(event)
