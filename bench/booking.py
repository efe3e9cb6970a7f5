"""Complete bookings over HTTP with everything running locally: request, read the
code from the mail sink, confirm, read the order code — next to a trivial nameko
endpoint (GET /live of the same service) measured in the same run."""
import email
import email.policy
import os
import random
import re
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import requests

from services.booking.reference import BAKU, ReferenceData
from shared.clock import baku_today
from shared.config import service_config

REF = ReferenceData.load()


class MailWatcher:
    """One background thread indexes the sink's new .eml files by recipient; clients
    wait on a condition instead of each scanning the folder."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = set(os.listdir(self.folder)) if self.folder.exists() else set()
        self.by_recipient = {}
        self.changed = threading.Condition()
        self.stopped = threading.Event()
        threading.Thread(target=self._scan_forever, daemon=True).start()

    def _scan_forever(self):
        while not self.stopped.is_set():
            new = [name for name in os.listdir(self.folder)
                   if name.endswith(".eml") and name not in self.seen]
            for name in new:
                self.seen.add(name)
                with open(self.folder / name, "rb") as handle:
                    message = email.message_from_binary_file(handle, policy=email.policy.default)
                with self.changed:
                    to = str(message["X-Envelope-To"]).lower()
                    self.by_recipient.setdefault(to, []).append(message)
            if new:
                with self.changed:
                    self.changed.notify_all()
            time.sleep(0.005)

    def wait(self, recipient, template, timeout=60):
        deadline = time.monotonic() + timeout
        with self.changed:
            while time.monotonic() < deadline:
                for message in self.by_recipient.get(recipient.lower(), []):
                    if str(message["X-Template"]).startswith(template):
                        return message.get_body(("plain",)).get_content()
                self.changed.wait(timeout=0.5)
        raise TimeoutError(f"{template} to {recipient}")


def citizen_headers():
    """The pages' development token and a citizen address of the 198.18.0.0/15
    benchmarking range (see shared.clients)."""
    return {"Authorization": "Bearer web-frontend-dev-token",
            "X-Asan-Client-Address": f"198.18.{random.randrange(256)}.{random.randrange(1, 256)}"}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _slots():
    today = baku_today()
    combos = []
    for centre in REF.centres.values():
        for code in centre.services:
            service = REF.services[code]
            for offset in range(2, 29):
                day = today + timedelta(days=offset)
                for moment in REF.slot_times(centre, service, day):
                    combos.append((centre.code, code, day.isoformat(), moment.strftime("%H:%M")))
    random.shuffle(combos)
    return iter(combos)


def complete_bookings(count=300, concurrency=16):
    base = "http://" + service_config("booking")["WEB_SERVER_ADDRESS"]
    watcher = MailWatcher(os.environ.get("ASAN_MAIL_DIR", ".state/mail"))
    slots, lock = _slots(), threading.Lock()
    request_ms, confirm_ms, total_ms = [], [], []

    def one(_):
        session = requests.Session()
        # Each booking is another citizen, as the citizen pages present them (their token
        # and the citizen's address): the abuse limits count citizens, not this client.
        session.headers.update(citizen_headers())
        started = time.perf_counter()
        while True:
            with lock:
                centre, service, day, at = next(slots)
            to = f"bench-{uuid.uuid4().hex[:12]}@example.az"
            body = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                    "id_card": f"AZE{random.randrange(10 ** 8):08d}",
                    "phone": f"+99450{random.randrange(2000000, 9999999)}",
                    "email": to, "service": service, "centre": centre, "date": day, "time": at}
            t0 = time.perf_counter()
            response = session.post(f"{base}/bookings", json=body, timeout=30)
            if response.status_code == 202:
                request_ms.append((time.perf_counter() - t0) * 1000)
                break
        booking_id = response.json()["booking_id"]
        code = re.search(r"^\s+(\d{6})\s*$", watcher.wait(to, "booking_confirmation_code"),
                         re.M).group(1)
        t0 = time.perf_counter()
        confirmed = session.post(f"{base}/bookings/{booking_id}/confirm", json={"code": code},
                                 timeout=30)
        assert confirmed.status_code == 200, confirmed.text
        confirm_ms.append((time.perf_counter() - t0) * 1000)
        watcher.wait(to, "booking_order_code")
        total_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    booking_seconds = time.perf_counter() - started
    watcher.stopped.set()

    live_ms = []

    def ping(_):
        session = requests.Session()
        for _ in range(count // concurrency + 1):
            t0 = time.perf_counter()
            assert session.get(f"{base}/live", timeout=30).status_code == 200
            live_ms.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(ping, range(concurrency)))
    live_seconds = time.perf_counter() - started

    def latency(values):
        return f"p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 99):.1f} ms"

    return [{
        "what": f"complete bookings over HTTP ({count}, {concurrency} clients): request → code "
                "email delivered → confirm → order-code email delivered",
        "ours": count / booking_seconds, "unit": "bookings/s",
        "baseline": len(live_ms) / live_seconds, "baseline_unit": "requests/s",
        "baseline_what": "trivial nameko @http GET /live, same service, same clients",
        "note": f"; POST /bookings {latency(request_ms)}; POST confirm {latency(confirm_ms)}; "
                f"whole booking {latency(total_ms)}; GET /live {latency(live_ms)}",
    }]
