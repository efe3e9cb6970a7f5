"""A booking load on the running platform, for the tests that break a part of it while
citizens keep booking (issue 13): each client books, reads the code from the mail
sink, confirms (trying again while the platform answers 503 or not at all, as a
citizen would), and waits for the order code. It records every answer with its time,
and at the end checks that every booking the platform accepted got exactly one email
of each kind."""
import random
import threading
import time
import uuid
from collections import Counter

import eventlet
import requests

from tests.citizens import as_citizen
from tests.e2e.booking.conftest import BOOKING, form, new_phone
from tests.mailbox import confirmation_code, messages_to, wait_for_mail


class BookingLoad:
    def __init__(self, clients=4):
        self.clients = clients
        self.stopping = threading.Event()
        self.answers = []   # (time, step, status or exception name)
        self.accepted = []  # (booking id, email) of bookings confirmed (200)
        self.faults = []    # anything but 2xx, 4xx, 503 or "no answer"
        self.threads = []

    def start(self):
        for _ in range(self.clients):
            self.threads.append(eventlet.spawn(self._client))
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.wait()
        return self

    def _call(self, step, path, body, headers):
        """POST until answered (not 503, not refused connection) or stopping."""
        while not self.stopping.is_set():
            try:
                answer = requests.post(f"{BOOKING}{path}", json=body, headers=headers,
                                       timeout=30)
            except requests.RequestException as error:
                self.answers.append((time.monotonic(), step, type(error).__name__))
                time.sleep(0.3)
                continue
            self.answers.append((time.monotonic(), step, answer.status_code))
            if answer.status_code >= 500 and answer.status_code != 503:
                self.faults.append((step, answer.status_code, answer.text[:200]))
            if answer.status_code != 503:
                return answer
            time.sleep(0.3)
        return None

    def _client(self):
        while not self.stopping.is_set():
            email = f"load-{uuid.uuid4().hex[:12]}@example.az"
            headers = as_citizen()
            try:
                data = form(email=email, phone=new_phone())  # asks booking for a free slot
            except (requests.RequestException, ValueError, AssertionError):
                time.sleep(0.3)  # booking is not answering: as a citizen, try again
                continue
            requested = self._call("request", "/bookings", data, headers)
            if requested is None or requested.status_code != 202:
                continue
            booking_id = requested.json()["booking_id"]
            try:
                code = confirmation_code(wait_for_mail(email, "booking_confirmation_code",
                                                       timeout=120))
            except AssertionError as lost:
                self.faults.append(("code email", booking_id, str(lost)))
                continue
            confirmed = self._call("confirm", f"/bookings/{booking_id}/confirm",
                                   {"code": code}, headers)
            if confirmed is not None and confirmed.status_code == 200:
                self.accepted.append((booking_id, email))
            time.sleep(random.uniform(0.05, 0.2))

    def summary(self):
        statuses = Counter(str(status) for _, _, status in self.answers)
        return {"accepted": len(self.accepted), "answers": dict(statuses),
                "faults": len(self.faults)}

    def refused_between(self, start, end):
        """Answers that were not answers (503, no connection) between two instants."""
        return sum(1 for moment, _, status in self.answers
                   if start <= moment <= end and (status == 503 or isinstance(status, str)))

    def emails_per_booking(self, timeout=120):
        """{booking id: (code emails, order-code emails)} once every email arrived or
        ``timeout`` passed: by distinct Message-ID (a resend after a crash carries the
        same one, and is the same email to the citizen), and the raw file count."""
        counts = {}
        for booking_id, email in self.accepted:
            wait_for_mail(email, "booking_order_code", timeout=timeout)
            mail = messages_to(email)
            kinds = {}
            for template in ("booking_confirmation_code", "booking_order_code"):
                same = [m for m in mail if str(m["X-Template"]).startswith(template + "/")]
                kinds[template] = (len({str(m["Message-ID"]) for m in same}), len(same))
            counts[booking_id] = kinds
        return counts
