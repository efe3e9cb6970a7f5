"""The FIN lookup at national scale: load time of the synthetic population, then
lookups per second over HTTP (each one audited: a fin_queries row and a FinQueried
event) next to the same queries run straight on PostgreSQL, in the same run."""
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psycopg
import requests

from services.registry import lookup
from shared.clock import baku_today
from services.registry.handlers import import_population
from shared.config import REPO_ROOT
from shared.db import apply_migrations

from .booking import percentile
from .kiosk import vhost, wait_up
from .platform import AMQP_URI, drop_database, fresh_database

PEOPLE = int(os.environ.get("BENCH_REGISTRY_PEOPLE", 10_000_000))
PORT = int(os.environ.get("BENCH_REGISTRY_PORT", 18104))


def _sample(url, count):
    """Real queries: half by ID card, half by name (as the people would type them),
    of cards valid today by the clock this run uses (the population is generated as of
    today too, but a loaded registry may be kept across days: data must not age)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT p.name, p.surname, p.patronymic, p.birth_date, d.series_number"
            " FROM persons p TABLESAMPLE SYSTEM (1) JOIN id_documents d"
            " ON d.fin = p.fin AND d.status = 'valid' AND d.expires_on >= %s LIMIT %s",
            (baku_today(), count)).fetchall()
    queries = []
    for name, surname, patronymic, born, card in rows:
        if random.random() < 0.5:
            queries.append(("id-card", {"id_card": card}))
        else:
            queries.append(("name", {"name": name, "surname": surname, "patronymic": patronymic,
                                     "birth_date": born.isoformat()}))
    return queries


def _run(clients, queries, one):
    latencies, lock = [], threading.Lock()
    work = iter(queries)

    def client(_):
        state = {}
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                return
            t0 = time.perf_counter()
            one(state, *item)
            latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return len(queries) / (time.perf_counter() - started), latencies


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def lookups(people=PEOPLE, count=6000, clients=16):
    url = fresh_database("asan_bench_registry")
    apply_migrations(url, REPO_ROOT / "services" / "registry" / "migrations")
    started = time.perf_counter()
    summary = import_population(url, people, seed=2026, replace=True,
                                progress=sys.stdout.isatty())
    load_seconds = time.perf_counter() - started
    queries = _sample(url, count)

    name = f"asan-bench-{uuid.uuid4().hex[:6]}"
    api = vhost(name)
    config = {"services": [{"class": "services.registry.service:RegistryService", "config": {
        "AMQP_URI": AMQP_URI.rsplit("/", 1)[0] + "/" + quote(name, safe=""),
        "DATABASE_URL": url, "WEB_SERVER_ADDRESS": f"127.0.0.1:{PORT}", "DB_POOL_SIZE": 16,
        "RATE_LIMITS": {"fin_lookup": "off"}, "max_workers": 32}}]}
    stack = subprocess.Popen([sys.executable, "-m", "bench.stack", json.dumps(config)],
                             stderr=open(os.environ.get("BENCH_STACK_LOG", os.devnull), "w"))
    try:
        wait_up(f"http://127.0.0.1:{PORT}", stack)

        def over_http(state, method, body):
            session = state.setdefault("session", requests.Session())
            response = session.post(f"http://127.0.0.1:{PORT}/fin/by-{method}", json=body,
                                    timeout=30)
            assert response.status_code in (200, 409), response.text

        http_rate, http_ms = _run(clients, queries, over_http)

        def straight(state, method, body):
            conn = state.get("conn") or state.setdefault("conn", psycopg.connect(url))
            if method == "id-card":
                lookup.by_id_card(conn, body["id_card"], baku_today())
            else:
                from datetime import date

                lookup.by_name(conn, body["name"], body["surname"], body["patronymic"],
                               date.fromisoformat(body["birth_date"]))
            conn.rollback()

        sql_rate, sql_ms = _run(clients, queries, straight)
    finally:
        stop(stack)
        requests.delete(f"{api}/api/vhosts/{quote(name, safe='')}", timeout=10)
    with psycopg.connect(url) as conn:
        audited = conn.execute("SELECT count(*) FROM fin_queries").fetchone()[0]
    if os.environ.get("BENCH_KEEP_REGISTRY") != "1":
        drop_database("asan_bench_registry")
    return [{
        "what": f"registry load: {summary['people']:,} people, {summary['documents']:,} ID "
                "documents (generate + COPY + indexes + ANALYZE)",
        "ours": summary["people"] / load_seconds, "unit": "people/s",
        "baseline": load_seconds, "baseline_unit": "s in all",
        "baseline_what": "wall-clock time of the whole load", "ratio": False,
    }, {
        "what": f"FIN lookups over HTTP with {summary['people']:,} people ({len(queries)} "
                f"queries, half by ID card, half by name, {clients} clients; each audited: "
                f"{audited} fin_queries rows and FinQueried events)",
        "ours": http_rate, "unit": "lookups/s", "baseline": sql_rate,
        "baseline_what": "the same queries straight on PostgreSQL (psycopg, same clients)",
        "note": f"; HTTP p50 {statistics.median(http_ms):.1f} ms, p99 "
                f"{percentile(http_ms, 99):.1f} ms; SQL p50 {statistics.median(sql_ms):.2f} ms,"
                f" p99 {percentile(sql_ms, 99):.2f} ms",
    }]

