"""The FIN lookup at national scale: the load of the synthetic population (10 million
people: part of the run, about 4.5 minutes), then lookups over HTTP driven by wrk at
1/8/32 connections, each audited (F-6), next to the same service with the audit
switched off (bench.stack's bench-only ``unaudited``), in the same run."""
import os
import random
import sys
import time
import uuid

import psycopg

from services.registry.loader import import_population
from shared.runtime.config import REPO_ROOT, service_config
from shared.runtime.db import apply_migrations
from tests import days

from .common import (PORT_BASE, SETTINGS, Stack, comparison, delete_vhost, drop_database,
                     figure, fresh_database, requests_file, vhost, wrk)

PEOPLE = int(os.environ.get("BENCH_REGISTRY_PEOPLE", 10_000_000))
FRONTEND_TOKEN = "web-frontend-dev-token"


def _sample(url, count):
    """Real queries: half by ID card, half by name (as people would type them), of cards
    valid today by the clock this run uses (a loaded registry may be kept across days,
    BENCH_KEEP_REGISTRY=1: data must not age)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT p.name, p.surname, p.patronymic, p.birth_date, d.series_number"
            " FROM persons p TABLESAMPLE SYSTEM (2) JOIN id_documents d"
            " ON d.fin = p.fin AND d.status = 'valid' AND d.expires_on >= %s LIMIT %s",
            (days.card_valid_through(), count)).fetchall()
    lines = []
    for k, (name, surname, patronymic, born, card) in enumerate(rows):
        # Each query from another citizen address (198.18.0.0/15): the audit records it.
        address = f"198.{18 + (k >> 16) % 2}.{(k >> 8) & 255}.{k & 255}"
        if random.random() < 0.5:
            lines.append(("POST", "/fin/by-id-card", address, {"id_card": card}))
        else:
            lines.append(("POST", "/fin/by-name", address, {
                "name": name, "surname": surname, "patronymic": patronymic,
                "birth_date": born.isoformat()}))
    random.shuffle(lines)
    return lines


def _audited(url):
    """fin_queries rows once the service has finished what wrk left in flight."""
    with psycopg.connect(url, autocommit=True) as conn:
        last = None
        while True:
            count = conn.execute("SELECT count(*) FROM fin_queries").fetchone()[0]
            if count == last:
                return count
            last = count
            time.sleep(1)


def lookups():
    """F-1, F-2, F-6: loads the synthetic population (``figure``, seconds), then FIN
    lookups over HTTP (wrk) at each client count, audited, next to the same service
    without the audit (``comparison``, lookups/s; target: at least 0.6x the baseline's
    rate, p99 at most 2x the baseline's). Returns ``[figure, comparison]``."""
    people = 100_000 if SETTINGS.quick else PEOPLE
    name = "asan_bench_registry"
    url = fresh_database(name, migrations=False)
    apply_migrations(url, REPO_ROOT / "services" / "registry" / "migrations")
    started = time.perf_counter()
    summary = import_population(url, people, seed=2026, replace=True,
                                progress=sys.stdout.isatty())
    load_seconds = time.perf_counter() - started
    queries = requests_file(_sample(url, 2000 if SETTINGS.quick else 30000))

    vhost_name = f"asan-bench-{uuid.uuid4().hex[:6]}"
    amqp_uri = vhost(vhost_name)
    deployed = service_config("registry")
    ports = {"audited": PORT_BASE + 4, "unaudited": PORT_BASE + 5}

    def spec(kind):
        return {"class": "services.registry.service:RegistryService",
                "unaudited": kind == "unaudited", "config": deployed | {
                    "AMQP_URI": amqp_uri, "DATABASE_URL": url,
                    "WEB_SERVER_ADDRESS": f"127.0.0.1:{ports[kind]}",
                    # Both sides alike: the per-client limit is not what is measured.
                    "RATE_LIMITS": {"fin_lookup": "off"}}}

    headers = {"Authorization": f"Bearer {FRONTEND_TOKEN}"}
    levels = []
    try:
        with Stack([spec("audited")], wait=[f"http://127.0.0.1:{ports['audited']}"]), \
                Stack([spec("unaudited")], wait=[f"http://127.0.0.1:{ports['unaudited']}"]):
            for clients in SETTINGS.clients:
                before = _audited(url)
                ours = wrk(f"http://127.0.0.1:{ports['audited']}", queries, clients,
                           SETTINGS.seconds, headers, expect=(200, 404, 409), cycle=True)
                middle = _audited(url)
                baseline = wrk(f"http://127.0.0.1:{ports['unaudited']}", queries, clients,
                               SETTINGS.seconds, headers, expect=(200, 404, 409), cycle=True)
                if _audited(url) != middle:
                    raise RuntimeError("the unaudited registry wrote fin_queries rows: the "
                                       "bench-only switch (bench.stack) no longer takes")
                ours["audit_rows"] = middle - before
                levels.append({"clients": clients, "ours": ours, "baseline": baseline})
    finally:
        queries.unlink(missing_ok=True)
        delete_vhost(vhost_name)
        if os.environ.get("BENCH_KEEP_REGISTRY") != "1":
            drop_database(name)
    return [figure(
        "registry_load", f"Registry load: {summary['people']:,} people, "
        f"{summary['documents']:,} ID documents (generate + COPY + indexes + ANALYZE)",
        load_seconds, "s", people_per_s=summary["people"] / load_seconds),
        comparison(
        "fin_lookups", f"FIN lookups over HTTP with {summary['people']:,} people (half by ID "
        "card, half by name)", "lookups/s",
        "RegistryService as deployed (its config's worker and pool sizes): each lookup "
        "audited, a fin_queries row and FinQueried in one committed transaction (F-6)",
        "the same service, same process set-up, with services.registry.handlers.audit "
        "switched off (bench only; checked: no audit row written)",
        levels, target={"ratio": 0.6, "p99_factor": 2.0},
        bounds="per-client rate limit off on both sides; the queries cycle over a sample "
               "of valid cards and names, each from another citizen address")]
