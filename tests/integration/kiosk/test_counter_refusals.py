"""Counter and kiosk refusals (issue 17 §1) that the day's walk-through does not meet:
each with its documented name and its words in both languages, and nothing recorded."""
import threading
import time

import psycopg
import pytest
import requests

from .conftest import ADMIN
from .test_counters import Desk, events, walk_in

pytestmark = pytest.mark.integration
REVOKED = ("The counter is revoked.", "Masa ləğv olunub.")
NO_CURRENT = ("This counter has no called ticket.", "Masada çağırılmış bilet yoxdur.")
NEVER_SECONDS = 30  # a deadline that only catches "never"


def refused(answer, status, error, words=None):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error, body
    if words:
        assert (body["message"]["en"], body["message"]["az"]) == words
    return body


@pytest.fixture
def centre(start_stack):
    """Booking and the gateway, which asks booking for its catalogue at every act (as it
    does every few seconds in production, for the closures)."""
    stack = start_stack(gateway_config={"CLOSURES_REFRESH_SECONDS": 0})
    stack.clock.set("2026-11-24", "10:05")
    return stack


def test_a_revoked_counter_gets_no_new_token(centre):
    desk = Desk(centre)
    revoke = f"{centre.gateway_url}/admin/counters/{desk.counter_id}"
    assert requests.post(f"{revoke}/revoke", headers=ADMIN, timeout=30).status_code == 200
    refused(requests.post(f"{revoke}/rotate", headers=ADMIN, timeout=30), 409, "revoked",
            REVOKED)
    assert len(events(centre, "CounterRotated")) == 0


def test_without_a_called_ticket_there_is_nothing_to_recall_or_close(centre):
    desk = Desk(centre)
    desk.sign_in("passport")
    for action in ("recall", "no-show", "served"):
        refused(desk.post(action), 409, "no_current_ticket", NO_CURRENT)
    assert events(centre, "TicketRecalled", "TicketNoShow", "TicketServed") == []


def test_a_transfer_or_a_walk_in_without_a_service_names_the_field(centre):
    kiosk = centre.kiosk("baku-1")["token"]
    number = walk_in(centre, kiosk)
    desk = Desk(centre)
    desk.sign_in("passport")
    assert desk.call() == number
    for body in ({}, {"service": None}):
        transfer = requests.post(f"{centre.gateway_url}/counter/transfer", json=body,
                                 headers=desk.headers, timeout=30)
        reasons = refused(transfer, 400, "validation_failed")["reasons"]
        assert [reason["field"] for reason in reasons] == ["service"]
        walk = requests.post(f"{centre.gateway_url}/kiosk/walk-ins", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {kiosk}"})
        reasons = refused(walk, 400, "validation_failed")["reasons"]
        assert [reason["field"] for reason in reasons] == ["service"]
    assert events(centre, "TicketTransferred") == [] and len(events(centre, "TicketIssued")) == 1


def test_a_counter_revoked_while_it_signs_in_is_refused_by_its_own_stream(centre):
    """The token was valid when the sign-in began; the counter was revoked before the
    sign-in read the counter's stream (here: while booking was slow to send its
    catalogue). The stream decides: 409 ``revoked``, not a signed-in revoked counter."""
    desk = Desk(centre)
    answers = []
    with psycopg.connect(centre.booking_db) as slow:
        slow.execute("LOCK TABLE closures IN ACCESS EXCLUSIVE MODE")  # the catalogue waits
        signing_in = threading.Thread(target=lambda: answers.append(desk.post(
            "sign-in", services=["passport"])))
        signing_in.start()
        with psycopg.connect(centre.booking_db, autocommit=True) as look:
            deadline = time.monotonic() + NEVER_SECONDS
            while not look.execute("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid ="
                                   " l.relation WHERE c.relname = 'closures' AND NOT granted"
                                   ).fetchone():
                assert time.monotonic() < deadline, "the sign-in never asked for the catalogue"
                time.sleep(0.02)
        revoked = requests.post(f"{centre.gateway_url}/admin/counters/{desk.counter_id}/revoke",
                                headers=ADMIN, timeout=30)
        assert revoked.status_code == 200, revoked.text
        slow.rollback()
    signing_in.join(NEVER_SECONDS)
    refused(answers[0], 409, "revoked", REVOKED)
    assert events(centre, "CounterSignedIn") == []
