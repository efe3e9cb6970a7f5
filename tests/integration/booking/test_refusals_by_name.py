"""Refusals of the booking service that need the clock or a database fault to reach
(issue 12 §2, §9): each is a 4xx with its documented name, never a 500."""
from datetime import datetime

import psycopg
import pytest
import requests

from shared.vocabulary.clock import BAKU

from .test_double_clicks import _code
from .test_holds import booking, form  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def _confirmed(url, clock, database):
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    booking_id = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"),
                               timeout=10).json()["booking_id"]
    confirmed = requests.post(f"{url}/bookings/{booking_id}/confirm",
                              json={"code": _code(database, booking_id)}, timeout=10)
    assert confirmed.status_code == 200
    with psycopg.connect(database) as conn:
        for (body,) in conn.execute("SELECT body FROM outbox WHERE exchange = 'booking.private'"
                                    " AND convert_from(body, 'UTF8') LIKE '%%order-code%%'"):
            import json

            return booking_id, json.loads(bytes(body))["data"]["variables"]["order_code"]
    raise AssertionError("no order code")


def test_a_booking_cannot_be_cancelled_once_its_time_has_come(booking, fresh_database):
    container, clock, url = booking()
    _, order_code = _confirmed(url, clock, fresh_database)
    clock.return_value = datetime(2026, 11, 24, 10, 15, tzinfo=BAKU)
    answer = requests.post(f"{url}/bookings/cancel", json={"order_code": order_code},
                           timeout=10)
    assert answer.status_code == 409 and answer.json()["error"] == "visit_started"


def test_a_command_that_keeps_losing_its_race_is_refused_409_busy(booking, fresh_database):
    """The database reports a serialization conflict on every try (a trigger plays the
    concurrent writer): the command is run again, then refused 409 ``busy``."""
    container, clock, url = booking(COMMAND_ATTEMPTS=2)
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    with psycopg.connect(fresh_database) as conn:
        conn.execute("""
            CREATE FUNCTION always_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'a concurrent writer' USING ERRCODE = '40001'; END $$;
            CREATE TRIGGER always_conflict BEFORE INSERT ON bookings
                FOR EACH ROW EXECUTE FUNCTION always_conflict();""")
    answer = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:30"), timeout=10)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "busy" and answer.json()["reasons"][0]["en"]
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_a_key_still_taken_on_the_second_run_is_already_exists_not_busy(booking, fresh_database):
    """A unique violation that survives running the command again on fresh state was
    no race: 409 ``already_exists`` at once, not five tries and "try again"."""
    container, clock, url = booking()
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    with psycopg.connect(fresh_database) as conn:
        conn.execute("""
            CREATE FUNCTION always_taken() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'taken' USING ERRCODE = '23505'; END $$;
            CREATE TRIGGER always_taken BEFORE INSERT ON bookings
                FOR EACH ROW EXECUTE FUNCTION always_taken();""")
    answer = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:45"), timeout=10)
    assert answer.status_code == 409 and answer.json()["error"] == "already_exists"


def test_q5_a_refusal_records_which_form_fields_never_keys_a_client_made_up(booking,
                                                                           fresh_database):
    """BookingRefused is public: a made-up key (an email, a card number, 30 KB of
    text) is typed text and must not reach it."""
    container, clock, url = booking()
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    body = dict(form("2026-11-24", "10:15"), **{"leyla.pii@example.com": 1, "AZE55554444": 2,
                                               "k" * 3000: 3}, name="1")
    answer = requests.post(f"{url}/bookings", json=body, timeout=10)
    assert answer.status_code == 400
    with psycopg.connect(fresh_database) as conn:
        (data,) = conn.execute("SELECT data FROM events WHERE event_type = 'BookingRefused'"
                               ).fetchone()
    fields = {reason["field"] for reason in data["reasons"]}
    assert fields == {"name", None}
    assert "unknown_field" in {reason["code"] for reason in data["reasons"]}
