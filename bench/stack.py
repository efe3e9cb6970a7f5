"""Services for a benchmark, in their own process, vhost and databases.

    python -m bench.stack '{"services": [{"class": "services.registry.service:RegistryService",
                                          "config": {...}, "unaudited": false}]}'

With ``BENCH_NOW`` set, every service's clock is stopped at that moment (a booking is
made a day ahead, Q-1, so activating it "now" needs a clock on the day of the visit);
with ``BENCH_CLOCK_RUNS=1`` too, it starts there and runs (the display board orders its
calls by their time).

Bench-only pieces, never part of a deployed service:

* :class:`OneInsertService` (``bench.stack:OneInsertService``): the baseline of
  ``POST /bookings`` — a nameko service on the platform's own HTTP entrypoint, worker
  pool and database pool (``PlatformService``, ``shared.runtime.db.Database``) whose
  ``POST /insert`` reads the JSON body and inserts it in one transaction.
* ``"unaudited": true`` on a registry spec: the same ``RegistryService``, every path
  identical, except that ``services.registry.handlers.audit`` does nothing — the
  baseline of the audited FIN lookup (F-6). bench/registry.py checks that the switch
  took: no ``fin_queries`` row may appear while it runs.
"""
import eventlet

eventlet.monkey_patch()  # before anything else, as nameko run does

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

from nameko.extensions import DependencyProvider  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from shared.vocabulary.catalog import EventCatalog  # noqa: E402
from shared.runtime.db import Database  # noqa: E402
from shared.edge.http import http, read_json  # noqa: E402
from shared.edge.platform import PlatformService  # noqa: E402

ONE_INSERT_TABLE = ("CREATE TABLE IF NOT EXISTS bench_rows"
                    " (id uuid PRIMARY KEY, body jsonb NOT NULL)")


class StoppedClock(DependencyProvider):
    """The services' clock stopped at ``BENCH_NOW`` (an ISO 8601 instant with its zone), so
    bookings made a day ahead (Q-1) can be activated "now"; with ``BENCH_CLOCK_RUNS=1``
    it runs from there at the machine's pace."""

    def setup(self):
        """Reads ``BENCH_NOW`` (``KeyError`` when it is not set) and ``BENCH_CLOCK_RUNS``."""
        self.now = datetime.fromisoformat(os.environ["BENCH_NOW"])
        self.runs_from = time.monotonic() if os.environ.get("BENCH_CLOCK_RUNS") == "1" else None

    def get_dependency(self, worker_ctx):
        """A clock function: the stopped instant, or that instant plus the time since."""
        if self.runs_from is None:
            return lambda: self.now
        return lambda: self.now + timedelta(seconds=time.monotonic() - self.runs_from)


class OneInsertService(PlatformService):
    """Baseline of a command endpoint: parse the JSON body, one INSERT, commit."""
    name = "bench_insert"
    db = Database(EventCatalog("bench_insert"))

    @http("POST", "/insert")
    def insert(self, request):
        """Parses the JSON body, inserts it as one row and commits; answers 202 ``{id}``."""
        body = read_json(request)
        row = uuid.uuid4()
        self.db.run(lambda uow: uow.conn.execute(
            "INSERT INTO bench_rows (id, body) VALUES (%s, %s)", (row, Jsonb(body))))
        return 202, {"id": str(row)}


def _no_audit(*args):
    """The registry's audit switched off (bench only): the decision taken on no
    events (its last argument), nothing recorded."""
    args[-1]([])


def service_class(spec):
    """The service class of ``spec`` (``{"class": "module:Name", "unaudited": bool}``); with
    ``unaudited`` the registry's audit is switched off (bench only), with ``BENCH_NOW`` its
    clock is stopped."""
    module, name = spec["class"].split(":")
    cls = getattr(importlib.import_module(module), name)
    if spec.get("unaudited"):
        from services.registry import handlers

        handlers.audit = _no_audit  # find and audit_refused call handlers.audit: the one path
    if os.environ.get("BENCH_NOW"):
        cls = type(cls.__name__, (cls,), {"clock": StoppedClock()})
    return cls


def main():
    """``python -m bench.stack '{"services": [spec, …]}'``: runs each service in this process
    until SIGTERM."""
    runners = []
    for spec in json.loads(sys.argv[1])["services"]:
        runner = ServiceRunner(spec["config"])
        runner.add_service(service_class(spec))
        runner.start()
        runners.append(runner)
    stopped = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.send())
    stopped.wait()
    for runner in runners:
        runner.stop()


if __name__ == "__main__":
    main()
