"""Graceful stop (issue 13 §1): SIGTERM makes a service stop taking work, finish what
it has — an HTTP request in flight gets its answer — and exit within a few seconds,
so a supervisor's stop (or a Kubernetes rollout) loses no request. The service runs
as `nameko run` runs it, in a process of its own, on the real database and broker."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import psycopg
import pytest
import requests
import yaml

from shared.clock import baku_today
from shared.config import REPO_ROOT
from tests.conftest import unused_port

from .booking.test_holds import form

pytestmark = pytest.mark.integration


@pytest.fixture
def booking_process(tmp_path, rabbit_config, make_database):
    database = make_database(REPO_ROOT / "services" / "booking" / "migrations")
    port = unused_port()
    config = tmp_path / "booking.yaml"
    config.write_text(yaml.safe_dump({
        "AMQP_URI": rabbit_config["AMQP_URI"], "DATABASE_URL": database,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "BOOKING_CODE_KEY": "test-key",
        "HOLD_SWEEP_SECONDS": 3600, "LAPSE_SWEEP_SECONDS": 3600,
        "EVENT_RETRY_DELAYS_MS": [1000]}))
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


def test_sigterm_answers_the_request_in_flight_then_exits_within_seconds(booking_process):
    process, url, database = booking_process
    day = baku_today() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    answer = {}
    with psycopg.connect(database) as lock:
        # The request will wait on this lock: it is in flight when SIGTERM comes.
        lock.execute("LOCK TABLE slot_usage IN ACCESS EXCLUSIVE MODE")

        def in_flight():
            answer["response"] = requests.post(f"{url}/bookings", timeout=30,
                                               json=form(day.isoformat(), "10:15"))

        thread = threading.Thread(target=in_flight)
        thread.start()
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(1)
        with pytest.raises(requests.ConnectionError):  # it takes no new work
            requests.get(f"{url}/health", timeout=5)
        lock.rollback()  # the request in flight may finish now
    thread.join(timeout=30)
    assert answer["response"].status_code == 202, answer["response"].text
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    stopped_after = time.monotonic() - signalled
    assert stopped_after < 10, f"took {stopped_after:.1f} s to stop"
    print(f"\nissue 13: stopped {stopped_after:.1f} s after SIGTERM (1 s of it the lock)",
          file=sys.stderr)
