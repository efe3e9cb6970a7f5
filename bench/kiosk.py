"""Activations per second through the kiosk gateway (kiosk → gateway → booking over
RPC → ticket), next to the gateway's trivial GET /live, measured in the same run."""
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time as clock_time, timedelta

import requests

from services.booking import domain, handlers
from services.booking import read_model as booking_read_model
from services.booking.events import CATALOG
from services.booking.reference import ReferenceData
from services.booking.settings import BookingSettings
from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from shared.runtime.db import make_pool
from shared.runtime.eventstore import EventStore, unit_of_work
from tests import days

from .common import (PORT_BASE, SETTINGS, comparison, delete_vhost, drop_database,
                     fresh_database, measure, vhost, wait_up)

REF = ReferenceData.load()
KEY = "bench-key"
ADMIN_TOKEN_SHA256 = "78abf365bb5655ddc086c68b35f02e42b589a9afabb58684be7af259d96b492a"


def _prepare_bookings(url, count, day, settings):
    """Confirmed bookings for ``day``, made the day before through the service layer."""
    from shared.runtime.config import REPO_ROOT
    from shared.runtime.db import apply_migrations

    apply_migrations(url, REPO_ROOT / "services" / "booking" / "migrations")
    pool = make_pool(url, size=4)
    store = EventStore(CATALOG, booking_read_model)
    the_day_before = datetime.combine(day - timedelta(days=1), clock_time(10), tzinfo=BAKU)
    combos = [(c.code, s, t) for c in REF.centres.values() for s in sorted(c.services)
              for t in REF.slot_times(c, REF.services[s], day)
              for _ in range(REF.services[s].counters)]
    random.shuffle(combos)
    bookings = []
    try:
        for centre, service, moment in combos[:count]:
            applicant = domain.Applicant("Leyla", "Məmmədova", "Əli qızı",
                                         f"AZE{random.randrange(10 ** 8):08d}", "+994501234567",
                                         f"b-{uuid.uuid4().hex[:8]}@example.az")
            visit = domain.Visit(centre, service, day, moment)
            with unit_of_work(pool, store, str(uuid.uuid4())) as uow:
                booking_id = handlers.request_booking(uow, REF, settings, applicant, visit, "az",
                                                      "api", the_day_before)["booking_id"]
            codes = {}
            with pool.connection() as conn:
                for (body,) in conn.execute("DELETE FROM outbox RETURNING body"):
                    data = json.loads(bytes(body))["data"]
                    if data.get("variables"):
                        codes[data["template"]] = data["variables"]
            code = codes["booking_confirmation_code"]["code"]
            with unit_of_work(pool, store, str(uuid.uuid4())) as uow:
                handlers.confirm_booking(uow, REF, settings, booking_id, code, the_day_before)
            with pool.connection() as conn:
                for (body,) in conn.execute("DELETE FROM outbox RETURNING body"):
                    data = json.loads(bytes(body))["data"]
                    if data.get("template") == "booking_order_code":
                        bookings.append((centre, data["variables"]["order_code"]))
    finally:
        pool.close()
    return bookings


def activations(concurrency=16):
    """Q-7: activations per second through the kiosk gateway (order code → gateway → booking
    over RPC → ticket), ``concurrency`` kiosks at once, against a bench stack of its own;
    returns ``[comparison]`` (activations/s, p50/p99 ms) next to the gateway's ``GET /live``."""
    count = 200 if SETTINGS.quick else 1500
    day = days.bookable_day(ahead=1)  # a day the centres open, booked the day before
    vhost_name = f"asan-bench-{uuid.uuid4().hex[:6]}"
    amqp = vhost(vhost_name)
    booking_db = fresh_database("asan_bench_kiosk_booking")
    gateway_db = fresh_database("asan_bench_kiosk_gateway")
    shipped = service_config("booking")
    settings = handlers.Settings(KEY, BookingSettings.from_config(shipped).policy)
    bookings = _prepare_bookings(booking_db, count, day, settings)
    config = {
        # the shipped settings (every key the service declares), on the bench's own
        # broker, database and ports
        "booking": dict(shipped, AMQP_URI=amqp, DATABASE_URL=booking_db, BOOKING_CODE_KEY=KEY,
                        WEB_SERVER_ADDRESS=f"127.0.0.1:{PORT_BASE + 1}",
                        ACTIVATION_EARLY_MINUTES=720, ACTIVATION_GRACE_MINUTES=720,
                        HOLD_SWEEP_SECONDS=3600, LAPSE_SWEEP_SECONDS=3600, max_workers=20),
        "gateway": dict(service_config("kiosk_gateway"), AMQP_URI=amqp,
                        DATABASE_URL=gateway_db, WEB_SERVER_ADDRESS=f"127.0.0.1:{PORT_BASE + 3}",
                        KIOSK_HEALTH_SECONDS=3600, ADMIN_TOKEN_SHA256=[ADMIN_TOKEN_SHA256],
                        max_workers=20),
    }
    env = dict(os.environ, BENCH_NOW=datetime.combine(day, clock_time(13), tzinfo=BAKU)
               .isoformat())
    services = {"services": [
        {"class": "services.booking.service:BookingService", "config": config["booking"]},
        {"class": "services.kiosk_gateway.service:KioskGatewayService",
         "config": config["gateway"]}]}
    stack = subprocess.Popen([sys.executable, "-m", "bench.stack", json.dumps(services)],
                             env=env, stderr=subprocess.DEVNULL)
    gateway = f"http://127.0.0.1:{PORT_BASE + 3}"
    try:
        wait_up(f"http://127.0.0.1:{PORT_BASE + 1}", stack)
        wait_up(gateway, stack)
        admin = {"Authorization": "Bearer admin-dev-token"}
        tokens = {centre: requests.post(f"{gateway}/admin/kiosks", json={"centre": centre},
                                        headers=admin, timeout=10).json()["token"]
                  for centre in REF.centres}
        latencies, lock = [], threading.Lock()
        queue = iter(bookings)

        def client(_):
            session = requests.Session()
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                centre, code = item
                t0 = time.perf_counter()
                response = session.post(f"{gateway}/kiosk/activations",
                                        json={"order_code": code}, timeout=30,
                                        headers={"Authorization": f"Bearer {tokens[centre]}"})
                assert response.status_code == 200, response.text
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(client, range(concurrency)))
        seconds = time.perf_counter() - started

        live = []

        def ping(_):
            session = requests.Session()
            for _ in range(len(bookings) // concurrency):
                t0 = time.perf_counter()
                session.get(f"{gateway}/live", timeout=30)
                live.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(ping, range(concurrency)))
        live_seconds = time.perf_counter() - started
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
            stack.wait()
        drop_database("asan_bench_kiosk_booking")
        drop_database("asan_bench_kiosk_gateway")
        delete_vhost(vhost_name)
    return [comparison(
        "activations", f"Kiosk activations through the gateway ({len(bookings):,}, "
        f"{concurrency} kiosks at once)", "activations/s",
        "order code → gateway → booking (RPC over RabbitMQ, BookingActivated) → the "
        "centre's next number (TicketIssued) → ticket",
        "GET /live of the same gateway, same clients (a trivial nameko endpoint)",
        [{"clients": concurrency,
          "ours": measure(len(bookings), seconds, latencies),
          "baseline": measure(len(live), live_seconds, live)}],
        bounds="a Python client (16 threads): the figures are far below its ceiling")]
