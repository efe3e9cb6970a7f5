"""A slow neighbour costs seconds, not workers (issue 12 §6): with the booking service
paused (SIGSTOP), what depends on it waits out its own timeout, then answers 503 with a
bilingual "try again" instead of hanging, and works again once booking is back.

Behaviour only: the answer must come after the timeout was spent (it waited for its
neighbour) and at all (:data:`HANG`, far above the timeout, tells a hang from a busy
machine). How long after the timeout it comes is a speed, measured by `make bench`
(its ``recovery`` section, docs/BENCHMARKS.md).

A kiosk activation waiting on its paused neighbour holds back no one else: the relays
of the cluster read below the commit horizon, the oldest transaction with an id still
running (docs/ARCHITECTURE.md), and the activation's transaction has none while it
waits."""
import re
import time
import uuid

import eventlet
import psycopg
import pytest
import requests
from psycopg.conninfo import conninfo_to_dict

from shared.runtime.config import service_config
from tests.processes import paused

pytestmark = pytest.mark.e2e
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
WEB = "http://" + service_config("web")["WEB_SERVER_ADDRESS"]
RPC_TIMEOUT = float(service_config("kiosk_gateway")["RPC_TIMEOUT_SECONDS"])
PAGE_TIMEOUT = float(service_config("web")["BACKEND_TIMEOUT_SECONDS"])
COMPLAINTS = "http://" + service_config("complaints")["WEB_SERVER_ADDRESS"]
ADMIN = {"Authorization": "Bearer admin-dev-token"}
HANG = 60  # seconds without an answer: the caller hangs on its paused neighbour


def _timed(send):
    """``(answer, seconds waited)`` of ``send(timeout)``; fails when nothing came within
    :data:`HANG` seconds."""
    started = time.monotonic()
    try:
        answer = send(HANG)
    except requests.Timeout:
        pytest.fail(f"no answer within {HANG} s: it hangs on its paused neighbour")
    return answer, time.monotonic() - started


def test_d5_a_kiosk_activation_gets_503_after_its_rpc_timeout_while_booking_is_paused():
    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "baku-2"}, headers=ADMIN,
                          timeout=10).json()
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    with paused("booking"):
        answer, waited = _timed(lambda timeout: requests.post(
            f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"}, headers=auth,
            timeout=timeout))
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == "unavailable" and body["reasons"][0]["az"] and \
        body["reasons"][0]["en"]
    assert answer.headers["Retry-After"]
    assert waited >= RPC_TIMEOUT  # it asked booking and waited for it, then gave up
    # booking is back: the same kiosk gets its answer again
    again = requests.post(f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"},
                          headers=auth, timeout=30)
    assert again.status_code == 404 and again.json()["error"] == "invalid_code"


def test_the_citizen_pages_show_a_bilingual_try_again_page_after_their_timeout():
    session = requests.Session()
    form = session.get(f"{WEB}/cancel", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    with paused("booking"):
        page, waited = _timed(lambda timeout: session.post(
            f"{WEB}/cancel", data={"csrf_token": token, "order_code": "ABCD-EFGH"},
            timeout=timeout))
    assert page.status_code == 503
    assert "temporarily unavailable" in page.text and "müvəqqəti əlçatan deyil" in page.text
    assert waited >= PAGE_TIMEOUT  # the pages asked booking and waited for it


def _waiting_activation(conn, database, timeout=30):
    """``(pid, xact_start, backend_xid)`` of the gateway's transaction left open by an
    activation waiting for booking (the only one of its database idle in a
    transaction), once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT pid, xact_start, backend_xid FROM pg_stat_activity"
                           " WHERE datname = %s AND state = 'idle in transaction'",
                           (database,)).fetchone()
        if row:
            return row
        eventlet.sleep(0.05)
    pytest.fail(f"no activation waiting on booking within {timeout} s")


def _ids_held(conn, database=None):
    """The sessions of the cluster (of ``database``) whose transaction has an id, the
    ones that hold the commit horizon: ``[(database, state, query)]``."""
    return conn.execute("SELECT datname, state, left(query, 80) FROM pg_stat_activity"
                        " WHERE backend_xid IS NOT NULL AND datname = coalesce(%s, datname)",
                        (database,)).fetchall()


def test_d5_an_activation_waiting_on_a_paused_booking_holds_back_no_relay_of_the_cluster():
    """While a kiosk activation waits for the paused booking service, a complaint filed
    meanwhile is published by the complaints relay: its event leaves the outbox while
    the activation's transaction is still open, and that transaction has no id."""
    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "baku-2"}, timeout=10,
                          headers=ADMIN | {"Idempotency-Key": str(uuid.uuid4())}).json()
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    gateway_db, booking_db = (conninfo_to_dict(service_config(name)["DATABASE_URL"])["dbname"]
                              for name in ("kiosk_gateway", "booking"))
    with psycopg.connect(service_config("complaints")["DATABASE_URL"], autocommit=True) as conn:
        for _ in range(5):
            with paused("booking"):
                if _ids_held(conn, booking_db):
                    # stopped inside a transaction of its own, which would hold the
                    # horizon whatever the gateway does: pause it again
                    continue
                activation = eventlet.spawn(requests.post, f"{GATEWAY}/kiosk/activations",
                                            json={"order_code": "ABCD-EFGH"}, headers=auth,
                                            timeout=HANG)
                pid, started, xid = _waiting_activation(conn, gateway_db)
                filed = requests.post(f"{COMPLAINTS}/complaints", timeout=10, json={
                    "service": "fin_lookup", "text": "Kiosk cavab gözləyir.", "name": "Rəşad",
                    "patronymic": "Elçin oğlu", "surname": "Hüseynzadə",
                    "address": "Gəncə, Atatürk pr. 5", "language": "az",
                    "email": f"complainant-{uuid.uuid4().hex[:10]}@example.az"})
                assert filed.status_code == 201, filed.text
                stream = f"complaint-{filed.json()['complaint_id']}"
                held = set()  # what held the horizon meanwhile, to say why it waited
                while True:
                    held.update(_ids_held(conn))
                    waiting = conn.execute(
                        "SELECT count(*) FROM outbox WHERE message_id IN (SELECT event_id"
                        " FROM events WHERE stream_id = %s)", (stream,)).fetchone()[0]
                    still_open = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND"
                        " xact_start = %s AND state = 'idle in transaction'",
                        (pid, started)).fetchone()[0]
                    if not waiting or not still_open:
                        break
                    eventlet.sleep(0.05)
                assert not waiting and still_open, ("the complaint's event waited in its"
                                                    f" outbox until the activation ended;"
                                                    f" transactions with an id: {held}")
                assert xid is None  # the waiting activation's transaction has no id
                answer = activation.wait()
                break
        else:
            pytest.fail("booking was stopped inside a transaction of its own five times")
    assert answer.status_code == 503, answer.text
