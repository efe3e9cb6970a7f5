"""Keeps serving when a part dies (issue 13), on the running platform: `make test`
starts it as `make run` does, every process under supervisord.

* SIGKILL of a service, a relay and the notification service while citizens book:
  supervisord brings each back by itself, the other services answer throughout, and
  every booking the platform accepted gets exactly one email of each kind;
* PostgreSQL restarted while citizens book: the requests meanwhile get 503 with a
  bilingual "try again" (never a 500), the pools reconnect by themselves, nothing
  committed is lost, nothing half-written remains.

No speed is asserted: the deadlines (:data:`NEVER`) only tell "never" from "late" on
a busy machine. How fast each comes back is measured by `make bench` (its
``recovery`` section, docs/BENCHMARKS.md); the figures of this run are printed too
(`pytest -s`).
"""
import subprocess
import time

import psycopg
import pytest
import requests

from shared.runtime.config import REPO_ROOT, SERVICES, service_config
from tests.load import BookingLoad
from tests.markers import wait_until
from tests.processes import pids_of

pytestmark = pytest.mark.e2e
# Seconds after which a process not back, a probe not answered or pools not
# reconnected count as "never": far above anything seen on a shared 2-core machine.
NEVER = 60


def _url(service, path):
    return "http://" + service_config(service)["WEB_SERVER_ADDRESS"] + path


def _answers(url):
    """Whether ``url`` answers 200 at all: refused, an error or no answer within
    :data:`NEVER` is "not answering"; a slow answer is an answer."""
    try:
        return requests.get(url, timeout=NEVER).status_code == 200
    except requests.RequestException:
        return False


def _relay_answers(service):
    return _answers(f"http://127.0.0.1:{service_config(service)['RELAY_METRICS_PORT']}/metrics")


KILLED = [
    ("booking", "services.booking.service:", lambda: _answers(_url("booking", "/health"))),
    ("booking-relay", "shared.runtime.relay services/booking/config.yaml",
     lambda: _relay_answers("booking")),
    ("notification", "services.notification.service:",
     lambda: _answers(_url("notification", "/health"))),
]
BYSTANDERS = [_url("registry", "/health"), _url("complaints", "/health"),
              _url("kiosk_gateway", "/health")]


def _booked_since(load, moment, at_least=1):
    """Whether the load got ``at_least`` booking requests or confirmations through after
    ``moment`` (monotonic)."""
    return sum(at > moment and status in (200, 202)
               for at, _, status in load.answers) >= at_least


def _booking_under_load(load, since, at_least=3):
    """Waits until the load got ``at_least`` bookings through after ``since``."""
    wait_until(lambda: _booked_since(load, since, at_least),
               f"{at_least} bookings answered", timeout=NEVER, every=0.2)


def _emails_exactly_once(load):
    per_booking = load.emails_per_booking()
    assert per_booking, "no booking was accepted"
    for booking_id, kinds in per_booking.items():
        for template, (distinct, _files) in kinds.items():
            assert distinct == 1, f"{booking_id}: {distinct} {template} emails"
    return sum(files - distinct for kinds in per_booking.values()
               for distinct, files in kinds.values())


def test_a_killed_process_comes_back_by_itself_and_nothing_is_lost():
    load = BookingLoad(clients=4).start()
    figures = {}
    try:
        _booking_under_load(load, since=0)
        for name, marker, back in KILLED:
            old = set(pids_of(marker))
            assert old, f"{name} is not running from this checkout"
            subprocess.run(["kill", "-KILL", *map(str, old)], check=True)
            killed_at = time.monotonic()
            bystanders_down, is_back = 0, False
            while not is_back and time.monotonic() - killed_at < NEVER:
                bystanders_down += sum(not _answers(url) for url in BYSTANDERS)
                is_back = bool(set(pids_of(marker)) - old) and back()
                time.sleep(0.2)
            recovered = time.monotonic() - killed_at
            figures[name] = {"back after s": round(recovered, 1),
                             "booking requests refused meanwhile":
                                 load.refused_between(killed_at, killed_at + recovered),
                             "other services not answering": bystanders_down}
            assert is_back, f"{name} never came back (not within {NEVER} s)"
            assert bystanders_down == 0, f"the others stopped answering while {name} was down"
            _booking_under_load(load, since=killed_at + recovered)  # with the new process
    finally:
        load.stop()
    assert load.faults == []
    figures["resent after a crash (same Message-ID)"] = _emails_exactly_once(load)
    figures["load"] = load.summary()
    print("\nissue 13, a process killed:", figures)


def test_a_database_restart_costs_503_meanwhile_and_loses_nothing():
    load = BookingLoad(clients=4).start()
    try:
        _booking_under_load(load, since=0)
        started = time.monotonic()
        subprocess.run([str(REPO_ROOT / "deploy" / "bin" / "infra"), "restart", "postgres"],
                       check=True, capture_output=True)
        restarted = time.monotonic()
        # Every pooled connection died with the server: a booking answered after the
        # restart came over a new one.
        while not _booked_since(load, restarted) and time.monotonic() - restarted < NEVER:
            time.sleep(0.2)
        reconnected = time.monotonic() - restarted
        _booking_under_load(load, since=restarted)  # a few more on the new connections
    finally:
        load.stop()
    assert load.faults == [], load.faults  # a 503 "try again", never a 500
    refusals = [(moment, status) for moment, _, status in load.answers if status == 503]
    assert _booked_since(load, restarted), f"the pools never reconnected (not within {NEVER} s)"
    # The services the load left alone had idle pooled connections the restart broke:
    # each answers its very next request, since the pool never lends a dead connection
    # (CI once saw one 503 per stale connection in the tests after this one).
    stale = {service: requests.get(_url(service, "/health"), timeout=NEVER).status_code
             for service in SERVICES}
    assert set(stale.values()) == {200}, stale
    # nothing committed is lost, nothing half-written: every accepted booking is in the
    # log and the read model, and every request in the log has its row and the reverse
    with psycopg.connect(service_config("booking")["DATABASE_URL"]) as conn:
        rows = {str(row[0]) for row in conn.execute("SELECT booking_id FROM bookings")}
        logged = {row[0].removeprefix("booking-") for row in conn.execute(
            "SELECT stream_id FROM events WHERE event_type = 'BookingRequested'")}
    accepted = {booking_id for booking_id, _ in load.accepted}
    assert accepted <= rows and rows == logged
    resent = _emails_exactly_once(load)
    print("\nissue 13, PostgreSQL restarted:", {
        "restart took s": round(restarted - started, 1),
        "first booking after it s": round(reconnected, 1),
        "503 answers": len(refusals),
        "503 window s": round(refusals[-1][0] - refusals[0][0], 1) if refusals else 0,
        "resent after a crash (same Message-ID)": resent, "load": load.summary()})
