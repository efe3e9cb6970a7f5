"""A double click is a refusal, not an error (issue 12 §2): the same command sent
several times at once gets one answer each, every try is counted, never a 500.

The booking service runs in-process on the real database; the requests are sent
together from green threads."""
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace

import psycopg
import pytest
import requests

from services.booking.events import CATALOG
from shared.edge.http import status_of
from shared.vocabulary.clock import BAKU
from shared.runtime.db import ServiceDatabase, make_pool
from shared.vocabulary.errors import Conflict
from shared.runtime.eventstore import ConcurrencyError, EventStore

from .test_holds import booking, form  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
TOGETHER = 8


def _code(database_url, booking_id):
    with psycopg.connect(database_url) as conn:
        for (body,) in conn.execute("SELECT body FROM outbox WHERE exchange = 'booking.private'"):
            data = json.loads(bytes(body))["data"]
            if data["reference"] == f"booking-{booking_id}":
                return data["variables"]["code"]
    raise AssertionError("no code email")


def _requested(booking, fresh_database, **config):
    container, clock, url = booking(**config)
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    response = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert response.status_code == 202, response.text
    booking_id = response.json()["booking_id"]
    return url, booking_id, _code(fresh_database, booking_id)


def _all_at_once(url, booking_id, codes):
    def confirm(code):
        return requests.post(f"{url}/bookings/{booking_id}/confirm", json={"code": code},
                             timeout=30)
    with ThreadPoolExecutor(len(codes)) as pool:
        return list(pool.map(confirm, codes))


def test_q3_parallel_confirms_with_the_right_code_one_200_the_rest_409(booking, fresh_database):
    url, booking_id, code = _requested(booking, fresh_database)
    answers = _all_at_once(url, booking_id, [code] * TOGETHER)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * (TOGETHER - 1), [a.text for a in answers]
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"already_confirmed"}
    with psycopg.connect(fresh_database) as conn:
        types = [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            (f"booking-{booking_id}",))]
        order_emails = conn.execute(
            "SELECT count(*) FROM outbox WHERE exchange = 'booking.private'"
            " AND convert_from(body, 'UTF8') LIKE '%%order-code%%'").fetchone()[0]
    assert types == ["BookingRequested", "CodeConfirmed"]
    assert order_emails == 1  # one order code, one email


def test_q6_parallel_wrong_codes_every_try_counted_never_500(booking, fresh_database):
    url, booking_id, code = _requested(booking, fresh_database, MAX_WRONG_CODES=10)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    answers = _all_at_once(url, booking_id, [wrong] * TOGETHER)
    assert [a.status_code for a in answers] == [422] * TOGETHER, [a.text for a in answers]
    left = sorted(int(a.json()["message"]["en"].rsplit(" ", 1)[-1].rstrip("."))
                  for a in answers)
    assert left == list(range(10 - TOGETHER, 10))  # 9, 8, … 2: each try counted once
    with psycopg.connect(fresh_database) as conn:
        rejected = conn.execute(
            "SELECT count(*) FROM events WHERE stream_id = %s AND event_type = 'CodeRejected'",
            (f"booking-{booking_id}",)).fetchone()[0]
    assert rejected == TOGETHER


def test_q6_parallel_wrong_codes_past_the_limit_void_once_and_refuse_the_rest(booking,
                                                                             fresh_database):
    url, booking_id, code = _requested(booking, fresh_database, MAX_WRONG_CODES=5)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    answers = _all_at_once(url, booking_id, [wrong] * TOGETHER)
    assert all(a.status_code in (409, 422) for a in answers), [a.text for a in answers]
    assert sorted(a.json()["error"] for a in answers) == \
        ["code_refused"] * 5 + ["not_pending"] * (TOGETHER - 5)
    with psycopg.connect(fresh_database) as conn:
        types = [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            (f"booking-{booking_id}",))]
    assert types == ["BookingRequested"] + ["CodeRejected"] * 5 + ["BookingVoided"]


class _Worker:
    service_name = "booking"
    context_data = {"correlation_id": "6d3f6b8e-6f55-4ad6-8a2b-6c0e9a7b1e44"}
    entrypoint = SimpleNamespace(method_name="test")


def test_a_lost_race_is_run_again_on_fresh_state_then_refused_409(fresh_database):
    """The one place that runs commands: a ConcurrencyError rolls back and runs the
    command again; one that keeps losing is refused 409 ``busy``, never a 500."""
    pool = make_pool(fresh_database, size=2)
    try:
        db = ServiceDatabase(pool, EventStore(CATALOG), _Worker(), attempts=3)
        tries = []

        def loses_twice(uow):
            tries.append(uow.conn.execute("SELECT txid_current()").fetchone()[0])
            if len(tries) < 3:
                raise ConcurrencyError("booking-x", 1, 2)
            return "done"

        assert db.run(loses_twice) == "done"
        assert len(set(tries)) == 3  # three transactions: fresh state each time

        def always_loses(uow):
            raise ConcurrencyError("booking-x", 1, 2)

        with pytest.raises(Conflict) as refused:
            db.run(always_loses)
        assert status_of(refused.value) == 409 and refused.value.error == "busy"
        assert refused.value.as_dict()["reasons"][0]["en"]
    finally:
        pool.close()


def test_q2_the_form_sent_twice_at_once_holds_one_place_and_both_get_its_answer(booking,
                                                                               fresh_database):
    """A double click on "send the code": one booking, one code email, the same answer
    for both clicks (shared.edge.idempotency), not a hold and a refusal."""
    container, clock, url = booking()
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    data = form("2026-11-24", "11:15")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: requests.post(f"{url}/bookings", json=data,
                                                        timeout=30), range(2)))
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json()["booking_id"] == answers[1].json()["booking_id"]
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM outbox WHERE routing_key = 'EmailRequested'"
                            ).fetchone()[0] == 1
