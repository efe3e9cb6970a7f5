"""A double click is one complaint (issue 12 §2): a filing repeated within a minute —
two clicks, a resent form — gets the first one's answer (the same reference), and
never a second complaint with its own deadline and email (shared.edge.idempotency)."""
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
import requests

from tests.markers import wait_until

from .test_complaints import FORM, complaints  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
NEVER = 60  # seconds: an answer not come by then is not coming


def _count(database, sql):
    with psycopg.connect(database) as conn:
        return conn.execute(sql).fetchone()[0]


def test_three_clicks_at_once_file_one_complaint_and_each_gets_its_reference(complaints):
    start, database, clock = complaints
    url = start()
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: requests.post(f"{url}/complaints", json=FORM,
                                                        timeout=30), range(3)))
    assert [a.status_code for a in answers] == [201] * 3
    assert len({a.json()["reference"] for a in answers}) == 1
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == \
        ["", "true", "true"]
    assert _count(database, "SELECT count(*) FROM complaints") == 1
    assert _count(database, "SELECT count(*) FROM outbox WHERE routing_key = 'EmailRequested'"
                  ) == 1  # one acknowledgement

    clock.now += timedelta(seconds=61)  # a minute later it is a complaint of its own
    again = requests.post(f"{url}/complaints", json=FORM, timeout=30)
    assert again.status_code == 201 and again.json()["reference"] != answers[0].json()[
        "reference"]
    other = requests.post(f"{url}/complaints", json=dict(FORM, text="Another matter."),
                          timeout=30)
    assert other.status_code == 201
    assert _count(database, "SELECT count(*) FROM complaints") == 3


def test_an_idempotency_key_keeps_the_answer_for_a_day(complaints):
    start, database, clock = complaints
    url = start()
    headers = {"Idempotency-Key": "ministry-request-42"}
    first = requests.post(f"{url}/complaints", json=FORM, headers=headers, timeout=30)
    clock.now += timedelta(hours=3)  # a government system retrying after a timeout
    retried = requests.post(f"{url}/complaints", json=FORM, headers=headers, timeout=30)
    assert retried.json() == first.json() and retried.headers["Idempotent-Replayed"] == "true"
    assert _count(database, "SELECT count(*) FROM complaints") == 1


def test_a_repeat_that_waits_longer_than_the_first_takes_is_told_in_progress(complaints):
    start, database, _ = complaints
    url = start(IDEMPOTENCY_WAIT_SECONDS=0.5)
    with psycopg.connect(database) as lock, ThreadPoolExecutor(1) as pool:
        # The first filing claims its request, then waits on this lock to write: in
        # progress for as long as the test holds it (not for a time a busy machine
        # could outlast, or miss).
        lock.execute("LOCK TABLE complaints IN ACCESS EXCLUSIVE MODE")
        first = pool.submit(requests.post, f"{url}/complaints", json=FORM, timeout=NEVER)
        wait_until(lambda: _count(database, "SELECT count(*) FROM idempotent_requests"),
                   "the first filing claiming its request")
        second = requests.post(f"{url}/complaints", json=FORM, timeout=NEVER)
        lock.rollback()  # the first may write now
        first = first.result(timeout=NEVER)
    assert first.status_code == 201
    assert second.status_code == 409 and second.json()["error"] == "in_progress"
    assert _count(database, "SELECT count(*) FROM complaints") == 1


def test_a_claim_whose_answer_never_came_is_given_up_after_half_a_minute(complaints):
    """Found by restarting PostgreSQL under load: the command committed, then recording
    its answer failed, and every repeat was told "in progress" for the whole window
    (24 h with an Idempotency-Key). After ABANDONED (30 s) a repeat runs again."""
    start, database, clock = complaints
    url = start()
    headers = {"Idempotency-Key": "ministry-retry-7"}
    first = requests.post(f"{url}/complaints", json=FORM, headers=headers, timeout=30)
    assert first.status_code == 201
    with psycopg.connect(database) as conn:  # as if the answer had not been recorded
        conn.execute("UPDATE idempotent_requests SET status = NULL, body = NULL")
    clock.now += timedelta(seconds=31)
    again = requests.post(f"{url}/complaints", json=FORM, headers=headers, timeout=30)
    assert again.status_code == 201, again.text  # run again, not 409 in_progress
    assert again.headers.get("Idempotent-Replayed") is None
