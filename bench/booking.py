"""The booking path over HTTP, driven by wrk against the platform's running booking
service (started by ``make bench`` like ``make run``): ``POST /bookings`` at 1/8/32
connections next to a bench-only nameko endpoint doing one INSERT transaction with the
same body (bench.stack.OneInsertService, the same worker and database pool sizes);
then, open loop at a steady offered rate, the time from ``POST /bookings`` to the code
email in the mail sink."""
import os
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import requests

from services.booking.reference import ReferenceData
from shared.runtime.config import service_config
from tests import days
from tests.conftest import platform_config

from .common import (PORT_BASE, SETTINGS, CpuMeter, Stack, comparison, drop_database, figure,
                     fresh_database, measure, percentile, requests_file, wrk)
from .stack import ONE_INSERT_TABLE

REF = ReferenceData.load()
FRONTEND_TOKEN = "web-frontend-dev-token"  # the pages' local token (tests/citizens.py)
EXPECT = (200, 201, 202)
MAX_RATE = 800  # bookings/s a level may reach before its distinct citizens run out
MAX_INSERT_RATE = 2500  # the same for the one-INSERT endpoint


class Citizens:
    """Distinct citizens for one run: each booking another address of the 198.18.0.0/15
    benchmarking range (the pages forward it with their token, so the abuse limits count
    it as one person), ID card, phone and email, and a free slot of its own — dates
    from the clock the run uses (tests.days: days booking accepts), so the data never
    ages."""

    def __init__(self):
        self.run = secrets.token_hex(4)
        self.next = random.randrange(1 << 17)
        self.card = random.randrange(10 ** 7)
        combos = [(centre.code, code, day.isoformat(), at)
                  for centre in REF.centres.values() for code in centre.services
                  for day in days.bookable_days(centre=centre.code, service=code)
                  for at in days.slots(day, centre.code, code)]
        random.shuffle(combos)
        self.slots = iter(combos)
        self.lock = threading.Lock()

    def booking(self):
        """(address, email, JSON body) of the next citizen."""
        with self.lock:
            k = self.next = self.next + 1
            self.card += 1
            card = self.card
            centre, service, day, at = next(self.slots)
        n = k % (1 << 17)
        address = f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"
        email = f"bench-{self.run}-{k}@example.az"
        return address, email, {
            "name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": f"AZE{card % 10 ** 8:08d}", "phone": f"+99450{2000000 + k % 7000000}",
            "email": email, "service": service, "centre": centre, "date": day, "time": at}


def _lines(citizens, path, count):
    return requests_file(("POST", path, address, body)
                         for address, _, body in (citizens.booking() for _ in range(count)))


def _headers():
    return {"Authorization": f"Bearer {FRONTEND_TOKEN}"}


def bookings():
    """POST /bookings next to the one-INSERT endpoint, then the email latency."""
    config = service_config("booking")
    base = "http://" + config["WEB_SERVER_ADDRESS"]
    citizens = Citizens()
    url = fresh_database("asan_bench_insert")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ONE_INSERT_TABLE)
    port = PORT_BASE + 7
    # Booking's pool, workers and HTTP limits: the baseline runs as booking would.
    insert_config = platform_config(AMQP_URI=os.environ["AMQP_URI"], DATABASE_URL=url,
                                    WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                                    max_workers=config["max_workers"])
    levels, files = [], []
    mail = MailSink(os.environ.get("ASAN_MAIL_DIR", ".state/mail"))
    try:
        with Stack([{"class": "bench.stack:OneInsertService", "config": insert_config}],
                   wait=[f"http://127.0.0.1:{port}"]):
            for clients in SETTINGS.clients:
                files.append(_lines(citizens, "/bookings", MAX_RATE * SETTINGS.seconds))
                # The baseline keeps no state per citizen: one body, another address each.
                address, _, body = citizens.booking()
                files.append(requests_file(
                    ("POST", "/insert", f"198.19.255.{k % 250 + 1}", body)
                    for k in range(MAX_INSERT_RATE * SETTINGS.seconds)))
                with CpuMeter() as cpu:
                    ours = wrk(base, files[-2], clients, SETTINGS.seconds, _headers(), EXPECT)
                    # The emails of these bookings are part of what a booking costs.
                    mail.wait_quiet(ours["count"], timeout=180)
                ours["cpu_ms"] = cpu.per(ours["count"])
                with CpuMeter() as cpu:
                    baseline = wrk(f"http://127.0.0.1:{port}", files[-1], clients,
                                   SETTINGS.seconds, _headers(), EXPECT)
                baseline["cpu_ms"] = cpu.per(baseline["count"])
                levels.append({"clients": clients, "ours": ours, "baseline": baseline})
        # Each level waited for its code emails: the open loop starts on a quiet platform.
        latency = email_latency(base, citizens, mail)
    finally:
        for path in files:
            path.unlink(missing_ok=True)
        drop_database("asan_bench_insert")
    return [comparison(
        "bookings", "POST /bookings (a citizen's booking request, 202)", "requests/s",
        "the platform's booking service (as `make run` starts it, abuse limits on, each request "
        "another citizen and slot): validate, rate-limit and idempotency records, the "
        "BookingRequested event, the code email in the outbox",
        "bench.stack.OneInsertService: the same nameko HTTP entrypoint, worker and database "
        "pool sizes; POST /insert parses the same body and INSERTs it, one transaction",
        levels, target={"ratio": 0.5}), latency]


class MailSink:
    """The sink's .eml files (deploy/mailsink.py): each name starts with the UTC moment
    it was stored, which is when the email reached the mailbox."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.known = set(os.listdir(self.folder))

    def new(self):
        """{recipient: (arrival epoch seconds, template)} of files not seen before."""
        found = {}
        for name in os.listdir(self.folder):
            if not name.endswith(".eml") or name in self.known:
                continue
            self.known.add(name)
            stamp = datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ")
            headers = {}
            with open(self.folder / name, "rb") as handle:
                for raw in handle:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line:
                        break
                    key, _, value = line.partition(":")
                    headers[key.lower()] = value.strip()
            to = headers.get("x-envelope-to", "").lower()
            found.setdefault(to, (stamp.replace(tzinfo=timezone.utc).timestamp(),
                                  headers.get("x-template", "")))
        return found

    def wait_quiet(self, expected, timeout):
        """Until ``expected`` new emails arrived, or none for 5 s, or ``timeout``."""
        deadline, seen, last = time.monotonic() + timeout, 0, time.monotonic()
        while seen < expected and time.monotonic() < deadline:
            got = len(self.new())
            seen += got
            if got:
                last = time.monotonic()
            elif time.monotonic() - last > 5:
                break
            time.sleep(0.5)


def email_latency(base, citizens, mail):
    """Open loop: ``rate`` POST /bookings a second for ``seconds`` (each sent on its
    schedule whatever the answers do), then the time from each POST to its code email
    in the mail sink."""
    rate, seconds = (10, 5) if SETTINGS.quick else (50, 60)
    count = rate * seconds
    sent, post_ms, statuses, lags = {}, [], {}, []
    local = threading.local()
    lock = threading.Lock()

    def post(address, email, body):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        headers = dict(_headers(), **{"X-Asan-Client-Address": address})
        t0, at = time.perf_counter(), time.time()
        try:
            status = session.post(f"{base}/bookings", json=body, headers=headers,
                                  timeout=30).status_code
        except requests.RequestException:
            status = "error"
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                sent[email] = at
                post_ms.append((time.perf_counter() - t0) * 1000)

    prepared = [citizens.booking() for _ in range(count)]
    mail.new()  # forget what arrived before
    cpu = CpuMeter().__enter__()
    with ThreadPoolExecutor(128) as pool:
        started = time.perf_counter()
        for k, item in enumerate(prepared):
            due = started + k / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            lags.append(max(0.0, -pause) * 1000)
            pool.submit(post, *item)
    arrivals = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(email in arrivals for email in sent):
        # Only this loop's citizens: a late email of the closed loop is not one of ours.
        arrivals.update((to, at) for to, (at, template) in mail.new().items()
                        if to in sent and template.startswith("booking_confirmation_code"))
        time.sleep(0.2)
    cpu.__exit__(None, None, None)
    delays = [(arrivals[email] - at) * 1000 for email, at in sent.items() if email in arrivals]
    missing = len(sent) - len(delays)
    result = measure(len(delays), seconds, delays, errors=missing + count - len(sent))
    return figure(
        "email_latency", f"POST /bookings → code email in the mailbox, open loop at {rate} "
        f"bookings/s for {seconds} s", percentile(delays, 50), "ms (p50)",
        target={"p99_ms": 1000}, p50_ms=result["p50_ms"], p99_ms=result["p99_ms"],
        offered_rate=rate, seconds=seconds, delivered=len(delays), missing=missing,
        statuses={str(k): v for k, v in statuses.items()},
        post_p50_ms=percentile(post_ms, 50), post_p99_ms=percentile(post_ms, 99),
        schedule_lag_p99_ms=percentile(lags, 99), cpu_ms=cpu.per(len(sent)),
        method="a Python client sends each request on its schedule from a pool of 128 "
               "threads (open loop: a slow answer does not delay the next request); the "
               "arrival is the mail sink's timestamp in the file name, taken when the "
               "email is stored")
