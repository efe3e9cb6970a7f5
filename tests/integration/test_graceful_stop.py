"""Graceful stop (issue 13 §1): SIGTERM makes a service stop taking work, finish what
it has — an HTTP request in flight gets its answer — and exit, so a supervisor's stop
(or a Kubernetes rollout) loses no request. The service runs as `nameko run` runs it,
in a process of its own, on the real database and broker, and the real clock: the
visit is on a day booking accepts (tests.days). How fast it stops is a figure of
`make bench`, not a check here."""
import os
import signal
import subprocess
import threading
import time

import psycopg
import pytest
import requests
import yaml

from shared.runtime.config import REPO_ROOT, service_config
from tests import days
from tests.conftest import unused_port

from .booking.test_holds import form

pytestmark = pytest.mark.integration


@pytest.fixture
def booking_process(tmp_path, rabbit_config, make_database):
    database = make_database(REPO_ROOT / "services" / "booking" / "migrations")
    port = unused_port()
    config = tmp_path / "booking.yaml"
    config.write_text(yaml.safe_dump(dict(
        service_config("booking"), AMQP_URI=rabbit_config["AMQP_URI"], DATABASE_URL=database,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", BOOKING_CODE_KEY="test-key",
        HOLD_SWEEP_SECONDS=3600, LAPSE_SWEEP_SECONDS=3600, EVENT_RETRY_DELAYS_MS=[1000])))
    log = open(tmp_path / "booking.log", "wb")
    process = subprocess.Popen(
        [str(REPO_ROOT / ".venv" / "bin" / "nameko"), "run", "--config", str(config),
         "services.booking.service:BookingService"], cwd=REPO_ROOT, stdout=log,
        stderr=subprocess.STDOUT, env=dict(os.environ, ASAN_LOG_DIR=""))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert process.poll() is None and time.monotonic() < deadline, \
            (tmp_path / "booking.log").read_text()
        time.sleep(0.2)
    yield process, url, database
    if process.poll() is None:
        process.kill()
    process.wait()
    log.close()


def _waiting_on_a_lock(conn):
    return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                        " AND relation = 'slot_usage'::regclass").fetchone()[0] > 0


def _until(condition, what, seconds=60):
    """Waits for ``condition()``; the deadline only catches "never"."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _refused(url):
    try:
        requests.get(f"{url}/health", timeout=5)
    except requests.ConnectionError:
        return True
    return False


def test_sigterm_answers_the_request_in_flight_then_exits(booking_process):
    process, url, database = booking_process
    day = days.bookable_day(centre="baku-1", service="apostille")
    at = days.slot(day, "baku-1", "apostille")
    answer = {}
    with psycopg.connect(database) as lock, psycopg.connect(database, autocommit=True) as watch:
        # The request will wait on this lock: it is in flight when SIGTERM comes.
        lock.execute("LOCK TABLE slot_usage IN ACCESS EXCLUSIVE MODE")

        def in_flight():
            answer["response"] = requests.post(f"{url}/bookings", timeout=60,
                                               json=form(day.isoformat(), at))

        thread = threading.Thread(target=in_flight)
        thread.start()
        _until(lambda: _waiting_on_a_lock(watch), "the request never reached the lock")
        process.send_signal(signal.SIGTERM)
        _until(lambda: _refused(url), "it kept taking new work after SIGTERM")
        assert thread.is_alive() and _waiting_on_a_lock(watch)  # still in flight
        lock.rollback()  # the request in flight may finish now
    thread.join(timeout=60)
    assert answer["response"].status_code == 202, answer["response"].text
    assert process.wait(timeout=60) in (0, -signal.SIGTERM)
