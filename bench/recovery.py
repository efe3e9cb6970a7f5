"""How long the behaviours the tests check take (issue 22 §5): the tests only require
that each happens at all (a process comes back, a paused neighbour costs a 503, a
SIGTERM ends the process, a call reaches the display board), with deadlines that tell
"never" from "late" on a busy machine; the times are measured here.

* **Back after a crash**, on the platform as ``make run`` starts it (supervisord): a
  service, a relay and the notification service are each SIGKILLed; the time until
  supervisord has a new process, and until it answers (``/health``, a relay's
  ``/metrics``). Meanwhile the other services' ``/health`` is probed every 0.1 s:
  their latencies during the outages next to the same probes on the quiet platform.
* **Graceful stop**: the same processes sent SIGTERM (what ``make stop`` and a
  Kubernetes rollout do): the time until the process has exited, next to the
  ``stopwaitsecs`` (15 s) after which supervisord would kill it; then back.
* **A slow neighbour**: the booking service paused (SIGSTOP) while a kiosk activation
  goes through the gateway (RPC) and a cancellation through the citizen pages (HTTP):
  the time until each answers its 503, next to its configured timeout.
* **The display board**: a bench stack of its own (booking, the kiosk gateway and the
  pages, their clock running from an hour at which the centre is open): a walk-in
  ticket is printed, a counter calls it, and the time from the call until the pages'
  ``/board/<centre>.json`` (what board.js asks every second) shows its number, next to
  the gateway's own board (the pages keep a board for ``BOARD_TTL_SECONDS``).

A latency result is ``{"kind": "latency", "id", "title", "unit": "s" or "ms", "values":
[...], "against": (what, value) or None, "detail", "target"}``; bench.report prints
them in one table.
"""
import os
import signal
import threading
import time
import xmlrpc.client
from datetime import timedelta
from pathlib import Path

import requests

from services.booking.reference import ReferenceData
from shared.vocabulary.clock import baku_datetime, baku_today
from shared.runtime.config import REPO_ROOT, service_config

from .common import (PORT_BASE, SETTINGS, Stack, delete_vhost, drop_database, fresh_database,
                     percentile, vhost)
from .kiosk import ADMIN_TOKEN_SHA256

REF = ReferenceData.load()
ADMIN = {"Authorization": "Bearer admin-dev-token"}  # the local stack's (deploy/env.sh)
GIVE_UP = 120  # seconds: a process not back by then is reported as never back
STOP_WAIT_SECONDS = 15  # supervisord's stopwaitsecs (shared/ops/supervision.py)
# Seconds a process runs after it first answers before it is signalled: a service
# answers HTTP before its consumers have started, and a SIGTERM in between can leave
# it hanging instead of stopping (nameko's stop during the consumers' start-up); the
# stop of a process that has started is what is measured.
SETTLE = 5


def _url(service, path):
    return "http://" + service_config(service)["WEB_SERVER_ADDRESS"] + path


def _answers(url, timeout=2):
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def latency(id, title, values, unit="s", against=None, detail="", target=None):
    """A *latency* result (module docstring): ``values`` one a run, ``against`` a
    ``(what, value)`` to read them next to."""
    return {"kind": "latency", "id": id, "title": title, "unit": unit,
            "values": [round(v, 4) for v in values], "against": against, "detail": detail,
            "target": target}


# --- the platform's processes, through supervisord ------------------------------------
class Supervisor:
    """supervisord's XML-RPC interface on its UNIX socket (``$ASAN_STATE_DIR/run``)."""

    def __init__(self):
        from supervisor.xmlrpc import SupervisorTransport

        state = Path(os.environ.get("ASAN_STATE_DIR", REPO_ROOT / ".state"))
        socket = state / "run" / "supervisor.sock"
        if not socket.exists():
            raise RuntimeError(f"no supervisord at {socket}: is `make run` running?")
        self.rpc = xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{socket}"))

    def info(self, program):
        """``{pid, statename, …}`` of ``program`` (a Procfile name; SCALE=1)."""
        return self.rpc.supervisor.getProcessInfo(program)

    def running(self, program):
        """The pid of ``program`` once supervisord calls it RUNNING (past ``startsecs``)."""
        deadline = time.monotonic() + GIVE_UP
        while time.monotonic() < deadline:
            info = self.info(program)
            if info["statename"] == "RUNNING" and info["pid"]:
                return info["pid"]
            time.sleep(0.1)
        raise RuntimeError(f"{program} is not RUNNING under supervisord")


def _gone(pid):
    """Whether ``pid`` has exited (no such process, or a zombie not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def _cycle(supervisor, program, answers, signum):
    """Sends ``signum`` to ``program``'s process once it is settled (supervisord calls
    it RUNNING, it answers, and :data:`SETTLE` seconds more: see there); a process
    that has not exited :data:`STOP_WAIT_SECONDS` after a SIGTERM is killed, as
    supervisord would. Returns ``{signalled: perf_counter, exited, new_process,
    answering, killed: bool}``, the times in seconds after the signal (None: not
    within :data:`GIVE_UP`)."""
    old = supervisor.running(program)
    deadline = time.monotonic() + GIVE_UP
    while not answers() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(SETTLE)
    started = time.perf_counter()
    found = {"signalled": started, "exited": None, "new_process": None, "answering": None,
             "killed": False}
    os.kill(old, signum)
    while time.perf_counter() - started < GIVE_UP:
        now = time.perf_counter() - started
        if found["exited"] is None and _gone(old):
            found["exited"] = now
        if found["exited"] is None and not found["killed"] and now > STOP_WAIT_SECONDS:
            os.kill(old, signal.SIGKILL)
            found["killed"] = True
        if found["new_process"] is None and supervisor.info(program)["pid"] not in (0, old):
            found["new_process"] = now
        if found["new_process"] is not None and answers():
            found["answering"] = time.perf_counter() - started
            break
        time.sleep(0.02)
    return found


class Probes:
    """The bystanders' ``/health``, each probed every 0.1 s in a thread of its own:
    ``(moment, latency ms or None for no answer)``."""

    def __init__(self, urls):
        self.urls, self.seen, self.stopping = urls, [], threading.Event()
        self.threads = [threading.Thread(target=self._probe, args=(url,)) for url in urls]

    def _probe(self, url):
        session = requests.Session()
        while not self.stopping.is_set():
            t0 = time.perf_counter()
            try:
                ok = session.get(url, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            self.seen.append((t0, (time.perf_counter() - t0) * 1000 if ok else None))
            self.stopping.wait(0.1)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def between(self, windows):
        """Latencies (ms) of probes sent inside any of ``windows`` ``[(start, end)]``, and
        how many got no answer."""
        inside = [ms for at, ms in self.seen if any(a <= at <= b for a, b in windows)]
        return [ms for ms in inside if ms is not None], inside.count(None)


KILLED = [  # (program, what answering means, its words)
    ("booking", lambda: _answers(_url("booking", "/health")), "the booking service"),
    ("booking-relay", lambda: _answers(
        f"http://127.0.0.1:{service_config('booking')['RELAY_METRICS_PORT']}/metrics"),
     "booking's outbox relay"),
    ("notification", lambda: _answers(_url("notification", "/health")),
     "the notification service"),
]
BYSTANDERS = [_url("registry", "/health"), _url("complaints", "/health"),
              _url("kiosk_gateway", "/health")]


def crashes_and_stops():
    """SIGKILL and SIGTERM of each process of :data:`KILLED` under supervisord (3 times
    each, 1 with ``--quick``); returns latency results."""
    runs = 1 if SETTINGS.quick else 3
    supervisor = Supervisor()
    results = []
    with Probes(BYSTANDERS) as probes:
        quiet_from = time.perf_counter()
        time.sleep(5)
        quiet = [(quiet_from, time.perf_counter())]
        outages = []
        for program, answers, words in KILLED:
            for signum, kind in ((signal.SIGKILL, "kill"), (signal.SIGTERM, "stop")):
                cycles = []
                for _ in range(runs):
                    cycle = _cycle(supervisor, program, answers, signum)
                    if signum == signal.SIGKILL:
                        outages.append((cycle["signalled"],
                                        cycle["signalled"] + (cycle["answering"] or GIVE_UP)))
                    cycles.append(cycle)
                back = [c["answering"] for c in cycles if c["answering"] is not None]
                restarted = [c["new_process"] for c in cycles if c["new_process"] is not None]
                never = runs - len(back)
                if kind == "kill":
                    results.append(latency(
                        f"back_after_kill_{program}",
                        f"SIGKILL of {words} → answering again (supervisord restarts it)",
                        back, detail=f"new process after {_seconds(restarted)} s"
                        + (f"; {never} of {runs} never back" if never else "")))
                else:
                    exited = [c["exited"] for c in cycles if not c["killed"]]
                    killed = sum(c["killed"] for c in cycles)
                    results.append(latency(
                        f"graceful_stop_{program}", f"SIGTERM of {words} → process exited"
                        " (graceful stop, idle)", exited,
                        against=("supervisord's stopwaitsecs, then SIGKILL", STOP_WAIT_SECONDS),
                        detail=f"answering again after {_seconds(back)} s"
                        + (f"; {killed} of {runs} not exited, killed after "
                           f"{STOP_WAIT_SECONDS} s" if killed else "")
                        + (f"; {never} of {runs} never back" if never else "")))
        time.sleep(1)
    during, lost = probes.between(outages)
    calm, calm_lost = probes.between(quiet)
    results.append(latency(
        "bystanders_during_outages", "Other services' GET /health (registry, complaints, "
        "kiosk_gateway) while a killed process was down", during, unit="ms",
        against=("p99 of the same probes on the quiet platform",
                 percentile(calm, 99)),
        detail=f"{len(during):,} probes, p99 {percentile(during, 99) or 0:.1f} ms, {lost} "
               f"unanswered; quiet: {len(calm):,} probes, {calm_lost} unanswered"))
    return results


def _seconds(values):
    if not values:
        return "—"
    return "–".join(f"{v:.1f}" for v in (min(values), max(values))) if len(values) > 1 \
        else f"{values[0]:.1f}"


# --- a slow neighbour -------------------------------------------------------------------
class _Paused:
    """The booking service SIGSTOPped for the block, SIGCONT after, then answering again."""

    def __init__(self, supervisor):
        self.pid = supervisor.running("booking")

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)

    def __exit__(self, *_):
        os.kill(self.pid, signal.SIGCONT)
        deadline = time.monotonic() + GIVE_UP
        while not _answers(_url("booking", "/health")) and time.monotonic() < deadline:
            time.sleep(0.1)


def slow_neighbour():
    """Booking paused: a kiosk activation (gateway → booking over RPC) and a cancellation
    on the citizen pages (pages → booking over HTTP), 3 times each (1 with ``--quick``):
    seconds until the 503, next to each caller's timeout; returns latency results."""
    runs = 1 if SETTINGS.quick else 3
    supervisor = Supervisor()
    gateway, web = _url("kiosk_gateway", ""), _url("web", "")
    kiosk = requests.post(f"{gateway}/admin/kiosks", json={"centre": "baku-2"}, headers=ADMIN,
                          timeout=30)
    kiosk.raise_for_status()
    auth = {"Authorization": f"Bearer {kiosk.json()['token']}"}
    activations, pages, statuses = [], [], []
    for _ in range(runs):
        with _Paused(supervisor):
            t0 = time.perf_counter()
            answer = requests.post(f"{gateway}/kiosk/activations", headers=auth, timeout=GIVE_UP,
                                   json={"order_code": "ABCD-EFGH"})
            activations.append(time.perf_counter() - t0)
            statuses.append(answer.status_code)
        session = requests.Session()
        form = session.get(f"{web}/cancel", timeout=30)
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        with _Paused(supervisor):
            t0 = time.perf_counter()
            page = session.post(f"{web}/cancel", timeout=GIVE_UP,
                                data={"csrf_token": token, "order_code": "ABCD-EFGH"})
            pages.append(time.perf_counter() - t0)
            statuses.append(page.status_code)
    rpc_timeout = float(service_config("kiosk_gateway")["RPC_TIMEOUT_SECONDS"])
    page_timeout = float(service_config("web")["BACKEND_TIMEOUT_SECONDS"])
    return [
        latency("slow_neighbour_rpc", "Booking paused: a kiosk activation → the gateway's 503",
                activations, against=("the gateway's RPC_TIMEOUT_SECONDS", rpc_timeout),
                detail=f"answers {sorted(set(statuses))}"),
        latency("slow_neighbour_pages", "Booking paused: a cancellation on the citizen pages "
                "→ their 503 page", pages,
                against=("the pages' BACKEND_TIMEOUT_SECONDS", page_timeout))]


# --- the display board ------------------------------------------------------------------
def _open_moment(centre, service):
    """An instant an hour after ``centre`` opens, on its first working day after today
    (the product's calendar: weekends, public holidays)."""
    day = baku_today() + timedelta(days=1)
    while REF.hours(REF.centres[centre], day) is None:
        day += timedelta(days=1)
    opens, _ = REF.hours(REF.centres[centre], day)
    return baku_datetime(day, opens) + timedelta(hours=1)


def board(centre="baku-1", service="passport"):
    """A counter's call → the board: ``calls`` walk-in tickets called one after another
    (40, 5 with ``--quick``), each polled every 20 ms on the pages' board JSON and the
    gateway's board until its number shows; returns latency results (ms)."""
    calls = 5 if SETTINGS.quick else 40
    name = f"asan-bench-board-{os.getpid()}"
    amqp = vhost(name)
    booking_db = fresh_database("asan_bench_board_booking")
    gateway_db = fresh_database("asan_bench_board_gateway")
    ports = {"booking": PORT_BASE + 11, "gateway": PORT_BASE + 13, "web": PORT_BASE + 15}
    urls = {key: f"http://127.0.0.1:{port}" for key, port in ports.items()}
    pages = dict(service_config("web"), AMQP_URI=amqp,
                 WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['web']}",
                 BOOKING_URL=urls["booking"], KIOSK_GATEWAY_URL=urls["gateway"])
    services = [
        {"class": "services.booking.service:BookingService", "config": dict(
            service_config("booking"), AMQP_URI=amqp, DATABASE_URL=booking_db,
            BOOKING_CODE_KEY="bench-key", WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['booking']}",
            HOLD_SWEEP_SECONDS=3600, LAPSE_SWEEP_SECONDS=3600)},
        {"class": "services.kiosk_gateway.service:KioskGatewayService", "config": dict(
            service_config("kiosk_gateway"), AMQP_URI=amqp, DATABASE_URL=gateway_db,
            KIOSK_HEALTH_SECONDS=3600, WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['gateway']}",
            ADMIN_TOKEN_SHA256=[ADMIN_TOKEN_SHA256])},
        {"class": "services.web.service:WebService", "config": pages}]
    env = {"BENCH_NOW": _open_moment(centre, service).isoformat(), "BENCH_CLOCK_RUNS": "1"}
    try:
        with Stack(services, wait=list(urls.values()), env=env):
            calls_ms, pages_ms, gateway_ms = _calls(urls, centre, service, calls)
    finally:
        drop_database("asan_bench_board_booking")
        drop_database("asan_bench_board_gateway")
        delete_vhost(name)
    from services.web.backends import BOARD_TTL_SECONDS
    from services.web.counter import BOARD_POLL_MILLISECONDS

    return [
        latency("board_lag", "A counter calls the next ticket → the pages' board JSON shows "
                "it", pages_ms, unit="ms",
                against=("the gateway's own board (p99)", percentile(gateway_ms, 99)),
                target={"p99_ms": 2000 - BOARD_POLL_MILLISECONDS},
                detail=f"{len(pages_ms)} calls; the call itself answered in p50 "
                       f"{percentile(calls_ms, 50):.0f} ms; the pages share a board for "
                       f"{BOARD_TTL_SECONDS} s; board.js asks every "
                       f"{BOARD_POLL_MILLISECONDS} ms, which a screen adds (issue 17 §2: "
                       "on the board within 2 s)")]


def _calls(urls, centre, service, calls):
    gateway = urls["gateway"]
    counter = requests.post(f"{gateway}/admin/counters", headers=ADMIN, timeout=30,
                            json={"centre": centre, "name": "Bench 1"})
    counter.raise_for_status()
    staff = {"Authorization": f"Bearer {counter.json()['token']}"}
    kiosk = requests.post(f"{gateway}/admin/kiosks", json={"centre": centre}, headers=ADMIN,
                          timeout=30)
    kiosk.raise_for_status()
    machine = {"Authorization": f"Bearer {kiosk.json()['token']}"}
    requests.post(f"{gateway}/counter/sign-in", json={"services": [service]}, headers=staff,
                  timeout=30).raise_for_status()
    session = requests.Session()
    boards = {"pages": f"{urls['web']}/board/{centre}.json",
              "gateway": f"{gateway}/centres/{centre}/board"}
    calls_ms, seen = [], {"pages": [], "gateway": []}
    for _ in range(calls):
        ticket = requests.post(f"{gateway}/kiosk/walk-ins", json={"service": service},
                               headers=machine, timeout=30)
        ticket.raise_for_status()
        number = ticket.json()["number"]
        t0 = time.perf_counter()
        requests.post(f"{gateway}/counter/call-next", headers=staff,
                      timeout=30).raise_for_status()
        calls_ms.append((time.perf_counter() - t0) * 1000)
        waiting = dict(boards)
        while waiting and time.perf_counter() - t0 < GIVE_UP:
            for side, url in list(waiting.items()):
                called = session.get(url, timeout=30).json().get("called", [])
                if any(row.get("number") == number for row in called):
                    seen[side].append((time.perf_counter() - t0) * 1000)
                    del waiting[side]
            time.sleep(0.02)
        if waiting:
            raise RuntimeError(f"ticket {number} never reached the board: {sorted(waiting)}")
        requests.post(f"{gateway}/counter/served", headers=staff, timeout=30).raise_for_status()
    return calls_ms, seen["pages"], seen["gateway"]


def recovery():
    """Every part of this section (module docstring), the board first (it leaves the
    platform alone); returns latency results."""
    return board() + slow_neighbour() + crashes_and_stops()

