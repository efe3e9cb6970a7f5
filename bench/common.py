"""What every section shares: the run's settings (``--quick``), latency summaries, the
C load generators (wrk for HTTP, pgbench for SQL), bench-only services in a process of
their own, and the shape of a result.

A *comparison* is ours next to a baseline measured in the same run, at one or more
client counts (1, 8, 32 by default)::

    {"id": "appends", "title": ..., "unit": "appends/s", "ours_what": ..., "baseline_what": ...,
     "levels": [{"clients": 8, "ours": MEASURE, "baseline": MEASURE}, ...],
     "target": {"ratio": 0.8, "clients": [8, 32]} or None, "bounds": "..."}

a *measure* is ``{"rate": per second, "p50_ms": .., "p99_ms": .., "count": .., "errors": ..}``.
A *figure* is one number with no baseline (load time, email latency)::

    {"id": ..., "title": ..., "value": .., "unit": .., "p50_ms": .., "p99_ms": .., "target": ..}

Sections return a list of these; ``bench.__main__`` writes them to one JSON file and
``bench.report`` turns that file into docs/BENCHMARKS.md's tables and plot.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests

from shared.runtime.config import REPO_ROOT

ADMIN_URL = os.environ.get("ASAN_PG_ADMIN_URL", "postgresql://asan:asan@127.0.0.1:27432/postgres")
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:27672/")
RABBIT_API_URI = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:27673")
RABBIT_USER = os.environ.get("RABBIT_USER", "guest")
# Bench-only services listen on BASE+1.. (booking 1, gateway 3, registry 4, monitoring 6,
# the one-INSERT endpoint 7): away from the platform's own ports.
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", 18100))
WRK_LUA = Path(__file__).resolve().parent / "wrk" / "requests.lua"


class Settings:
    """The run's sizes. The full run (``make bench``) is what docs/BENCHMARKS.md
    reports; ``--quick`` only checks that the harness works (seconds per level, small
    counts, 100,000 people) and its figures are not to be quoted."""
    quick = False
    clients = (1, 8, 32)

    @property
    def seconds(self):
        """Seconds each closed-loop measurement (one client count, one side) runs."""
        return 3 if self.quick else 10


SETTINGS = Settings()


def percentile(values, q):
    """The q-th percentile (nearest rank) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(count, seconds, latencies_ms, errors=0, **extra):
    """A measure from ``count`` completed operations in ``seconds`` with their latencies."""
    return {"rate": count / seconds if seconds else 0.0, "count": count, "seconds": seconds,
            "p50_ms": percentile(latencies_ms, 50), "p99_ms": percentile(latencies_ms, 99),
            "errors": errors, **extra}


def in_threads(threads, seconds, work):
    """Closed loop: ``threads`` threads call ``work(thread_index, i)`` for ``seconds``;
    returns a measure. ``work`` returns normally for a success and raises for an error
    (counted, not timed)."""
    latencies = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)

    def loop(index):
        start.wait()
        i = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                work(index, i)
            except Exception:  # counted as an error, the run goes on
                errors[index] += 1
            else:
                latencies[index].append((time.perf_counter() - t0) * 1000)
            i += 1

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.perf_counter() + seconds  # read by the threads after the barrier
    start.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    merged = [value for part in latencies for value in part]
    return measure(len(merged), elapsed, merged, sum(errors))


# ------------------------------------------------------------------------ databases
def database_url(name):
    """The URL of database ``name`` on the benchmark's PostgreSQL server (``ASAN_PG_ADMIN_URL``
    with another database name)."""
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def fresh_database(name, migrations=True):
    """An empty database ``name`` (dropped first if it exists), with the platform's
    migrations applied unless ``migrations`` is False."""
    from shared.runtime.db import apply_migrations

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    if migrations:
        apply_migrations(url)
    return url


def drop_database(name):
    """Drops database ``name`` if it exists, closing its connections (PostgreSQL 13+ ``WITH
    (FORCE)``)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------ RabbitMQ
def vhost(name):
    """A new vhost ``name`` on which the administrator (RABBIT_USER) may do anything;
    returns its AMQP URI."""
    api = RABBIT_API_URI
    requests.put(f"{api}/api/vhosts/{quote(name, safe='')}", timeout=10).raise_for_status()
    requests.put(f"{api}/api/permissions/{quote(name, safe='')}/{quote(RABBIT_USER, safe='')}",
                 timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}
                 ).raise_for_status()
    return AMQP_URI.rsplit("/", 1)[0] + "/" + quote(name, safe="")


def delete_vhost(name):
    """Deletes RabbitMQ virtual host ``name`` through the management API, with everything in it;
    errors ignored (10 s timeout)."""
    requests.delete(f"{RABBIT_API_URI}/api/vhosts/{quote(name, safe='')}", timeout=10)


# ------------------------------------------------------------------------ bench stacks
class Stack:
    """Services of ``bench.stack`` in a process of their own (see that module)::

        with Stack([{"class": "...:RegistryService", "config": {...}}], wait=[url]):
            ...
    """

    def __init__(self, services, wait=(), env=None):
        self.services, self.wait, self.env = services, wait, env
        self.process = None

    def __enter__(self):
        log = os.environ.get("BENCH_STACK_LOG")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.stack", json.dumps({"services": self.services})],
            env=dict(os.environ, **(self.env or {})),
            stderr=open(log, "a") if log else subprocess.DEVNULL)
        try:
            for url in self.wait:
                wait_up(url, self.process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_up(url, process, timeout=90):
    """Returns once ``GET <url>/health`` answers 200; raises ``RuntimeError`` when the stack
    ``process`` exited first, ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the benchmark stack exited (BENCH_STACK_LOG=file to see why)")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


# ------------------------------------------------------------------------ wrk
def wrk(url, requests_file, clients, seconds, headers=None, expect=(200,), cycle=False):
    """Closed loop with wrk (C, so the client is not the ceiling): ``clients``
    connections, each sending its next request as soon as the last is answered, for
    ``seconds``. ``requests_file``: one request a line, ``METHOD<TAB>PATH<TAB>CLIENT
    ADDRESS<TAB>BODY`` (bench/wrk/requests.lua; the lines are shared out between wrk's
    threads and never repeated: a run that needs more lines than the file has is an
    error, unless ``cycle``: then each thread starts its lines over). ``headers``: sent
    with every request. Returns a measure; answers whose status
    is not in ``expect`` count as errors (and are listed in ``statuses``)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (deploy/bin/setup installs it)")
    threads = min(clients, os.cpu_count() or 2)
    env = dict(os.environ, BENCH_WRK_HEADERS=json.dumps(headers or {}),
               BENCH_WRK_FILE=str(requests_file), BENCH_WRK_THREADS=str(threads),
               BENCH_WRK_CYCLE="1" if cycle else "0")
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s",
               "--timeout", "30s", "-s", str(WRK_LUA), url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    found = re.search(r"^BENCH-JSON (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    if result["exhausted"]:
        raise RuntimeError(f"wrk ran out of distinct requests in {requests_file}")
    statuses = {int(k): v for k, v in result["statuses"].items()}
    good = sum(v for k, v in statuses.items() if k in expect)
    socket_errors = sum(result["socket_errors"].values())
    seconds_run = result["duration_us"] / 1e6
    return {"rate": good / seconds_run, "count": good, "seconds": seconds_run,
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "errors": result["requests"] - good + socket_errors,
            "statuses": statuses, "socket_errors": result["socket_errors"], "client": "wrk"}


def requests_file(lines):
    """Write wrk request lines (tuples method, path, address, body) to a temporary file."""
    handle = tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="bench-wrk-", delete=False,
                                         encoding="utf-8")
    with handle:
        for method, path, address, body in lines:
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            assert "\t" not in text and "\n" not in text
            handle.write(f"{method}\t{path}\t{address}\t{text}\n")
    return Path(handle.name)


# ------------------------------------------------------------------------ pgbench
def pgbench(url, script, clients, seconds):
    """Closed loop with pgbench: ``clients`` connections run ``script`` (a pgbench
    script: one transaction) for ``seconds``; per-transaction latencies from its log."""
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is not installed (it comes with postgresql-15)")
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as folder:
        script_path = Path(folder) / "script.sql"
        script_path.write_text(script, encoding="utf-8")
        env = dict(os.environ, PGPASSWORD=info.get("password", ""))
        command = ["pgbench", "-n", "-f", str(script_path), "-c", str(clients),
                   "-j", str(min(clients, os.cpu_count() or 2)), "-T", str(seconds),
                   "-l", f"--log-prefix={folder}/log", "-h", info.get("host", "127.0.0.1"),
                   "-p", str(info.get("port", 5432)), "-U", info.get("user", "asan"),
                   info["dbname"]]
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=seconds + 120)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stdout}\n{done.stderr}")
        latencies = []
        for log in Path(folder).glob("log*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                latencies.append(int(fields[2]) / 1000)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)",
                          done.stdout).group(1))
    return {"rate": tps, "count": len(latencies), "seconds": seconds,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "errors": int(failed.group(1)) if failed else 0, "client": "pgbench"}


def comparison(id, title, unit, ours_what, baseline_what, levels, target=None, bounds=""):
    """A *comparison* result ``{kind, id, title, unit, ours_what, baseline_what, levels, target,
    bounds}``: ours next to a baseline of the same run (shape: module docstring); ``levels``:
    ``[{clients, ours: measure, baseline: measure}]``."""
    return {"kind": "comparison", "id": id, "title": title, "unit": unit,
            "ours_what": ours_what, "baseline_what": baseline_what, "levels": levels,
            "target": target, "bounds": bounds}


def figure(id, title, value, unit, target=None, **extra):
    """A *figure* result ``{kind, id, title, value, unit, target, **extra}``: one number with no
    baseline."""
    return {"kind": "figure", "id": id, "title": title, "value": value, "unit": unit,
            "target": target, **extra}


def repo_file(path):
    """``path`` (relative) under the repository root, as a ``Path``."""
    return REPO_ROOT / path


# --- where the machine's CPU goes -----------------------------------------------------
_ROLES = [  # (role, pattern of the command line), first match wins
    ("relays", re.compile(r"-m shared\.relay")),
    ("load generator", re.compile(r"(^|/)wrk\b|-m bench\b|bench\.stack")),
    ("PostgreSQL", re.compile(r"^postgres")),
    ("RabbitMQ", re.compile(r"beam\.smp|erl_child_setup|inet_gethost|epmd")),
    ("mail sink", re.compile(r"mailsink\.py")),
    ("supervision", re.compile(r"supervisord|shared\.supervision")),
]
_SERVICE = re.compile(r"services\.(\w+)\.service:")
_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _cpu_snapshot():
    """{pid: (role, CPU ms so far)} of every process readable in /proc."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # ended meanwhile
        # Fields 14 and 15 of stat (utime, stime), counted after the command's ")".
        ms = (int(stat[11]) + int(stat[12])) * _TICK_MS
        service = _SERVICE.search(command)
        role = service.group(1) if service else next(
            (name for name, pattern in _ROLES if pattern.search(command)),
            "other" if command else "kernel threads")
        found[entry.name] = (role, ms)
    return found


class CpuMeter:
    """CPU time the machine's processes spent between entering and leaving the block,
    by role (each service, the relays, PostgreSQL, RabbitMQ, the mail sink, the load
    generator…), from /proc: what bounds a figure when the whole machine is busy.
    ``per(count)`` → {role: CPU ms per item, "total": …}; a process that ended inside
    the block is missed, one that started is counted from its start."""

    def __enter__(self):
        self.before = _cpu_snapshot()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        after = _cpu_snapshot()
        self.by_role = {}
        for pid, (role, ms) in after.items():
            spent = ms - self.before.get(pid, (role, 0.0))[1]
            self.by_role[role] = self.by_role.get(role, 0.0) + max(spent, 0.0)
        return False

    def per(self, count):
        """{role: ms per item} for ``count`` items, largest first, plus ``total`` and
        ``busy_cores`` (CPU seconds per second of the block)."""
        if not count:
            return {}
        shares = {role: ms / count for role, ms in sorted(self.by_role.items(),
                                                          key=lambda kv: -kv[1]) if ms > 0}
        total = sum(self.by_role.values())
        return {**{k: round(v, 3) for k, v in shares.items()},
                "total": round(total / count, 3),
                "busy_cores": round(total / 1000 / self.seconds, 2)}
