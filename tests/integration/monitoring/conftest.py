"""The whole platform in-process for the monitoring tests: booking, notification,
kiosk gateway, registry, complaints and monitoring on the real PostgreSQL (a database
each), RabbitMQ (a vhost of their own) and SMTP sink, with every outbox relay
running, and one clock the test moves — a scripted day needs bookings made the day
before (Q-1) and visits at their time (Q-7)."""
import hashlib
import os
import time
import uuid
from pathlib import Path

import eventlet
import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.booking.service import BookingService
from services.complaints.service import ComplaintsService
from services.kiosk_gateway.service import KioskGatewayService
from services.monitoring.read_model import CATALOGS
from services.monitoring.rebuild import consumer_of, rebuild
from services.monitoring.service import MonitoringService
from services.notification.service import NotificationService
from services.registry.service import RegistryService
from shared.runtime.config import service_config
from shared.runtime.relay import Relay
from tests.clock import Clock
from tests.conftest import unused_port
from tests.keys import signer_for
from tests.mailbox import confirmation_code, order_code, wait_for_mail

ROOT = Path(__file__).resolve().parents[3] / "services"


def sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


TOKENS = {"booking": "operator-dev-token", "kiosk_gateway": "admin-dev-token",
          "registry": "registry-dev-token", "complaints": "complaints-dev-token",
          "monitoring": "monitoring-dev-token"}
SMTP = {"SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "27025")), "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "ASAN xidmət <no-reply@asan.gov.az>"}


class Platform:
    def __init__(self, clock, urls, databases, containers):
        self.clock, self.urls, self.databases, self.containers = clock, urls, databases, containers

    def url(self, service, path):
        return self.urls[service] + path

    def auth(self, service):
        return {"Authorization": f"Bearer {TOKENS[service]}"}

    # --- booking ---------------------------------------------------------------
    def form(self, centre="baku-1", service="passport", day="2026-11-24", at="10:15",
             email=None, channel="api"):
        return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "phone": "+994501234567",
                "email": email or f"mon-{uuid.uuid4().hex[:10]}@example.az",
                "service": service, "centre": centre, "date": day, "time": at,
                "channel": channel}

    def request_booking(self, **form):
        form = self.form(**form)
        response = requests.post(self.url("booking", "/bookings"), json=form, timeout=10)
        assert response.status_code == 202, response.text
        return response.json()["booking_id"], form["email"]

    def confirm(self, booking_id, email):
        code = confirmation_code(wait_for_mail(email, "booking_confirmation_code"))
        response = requests.post(self.url("booking", f"/bookings/{booking_id}/confirm"),
                                 json={"code": code}, timeout=10)
        assert response.status_code == 200, response.text
        return order_code(wait_for_mail(email, "booking_order_code"))

    def refused_form(self, **changes):
        form = self.form() | changes
        response = requests.post(self.url("booking", "/bookings"), json=form, timeout=10)
        assert response.status_code == 400, response.text
        return [reason["code"] for reason in response.json()["reasons"]]

    # --- kiosks ----------------------------------------------------------------
    def kiosk(self, centre):
        response = requests.post(self.url("kiosk_gateway", "/admin/kiosks"),
                                 json={"centre": centre}, headers=self.auth("kiosk_gateway"),
                                 timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def activate(self, token, code):
        return requests.post(self.url("kiosk_gateway", "/kiosk/activations"),
                             json={"order_code": code}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})

    # --- monitoring ------------------------------------------------------------
    def report(self, day, **query):
        response = requests.get(self.url("monitoring", "/reports/control"),
                                params={"day": day, **query}, headers=self.auth("monitoring"),
                                timeout=30)
        assert response.status_code == 200, response.text
        return response

    def public_events(self):
        """How many public events each source service has stored."""
        counts = {}
        for source, catalog in CATALOGS.items():
            public = [kind.name for kind in catalog if kind.is_public]
            with psycopg.connect(self.databases[source]) as conn:
                counts[source] = conn.execute(
                    "SELECT count(*) FROM events WHERE event_type = ANY(%s)",
                    (public,)).fetchone()[0]
        return counts

    def processed(self):
        with psycopg.connect(self.databases["monitoring"]) as conn:
            rows = dict(conn.execute("SELECT consumer, count(*) FROM processed_events"
                                     " GROUP BY 1").fetchall())
        return {source: rows.get(consumer_of(source), 0) for source in CATALOGS}

    def rebuild_monitoring_from_scratch(self):
        """Wipe monitoring's database, rebuild it from the services' event logs
        (``services.monitoring.rebuild``) and start monitoring again on it; returns
        how many events it applied from each source."""
        self.containers["monitoring"].stop()
        url = self.databases["monitoring"]
        admin, name = url.rsplit("/", 1)
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        applied = rebuild(url, {source: self.databases[source] for source in CATALOGS})
        port = unused_port()
        container = self.container_factory(MonitoringService, dict(
            self.containers["monitoring"].config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"))
        container.start()
        self.containers["monitoring"] = container
        self.urls["monitoring"] = f"http://127.0.0.1:{port}"
        return applied

    def wait_caught_up(self, timeout=60):
        """Until monitoring has applied every public event the services stored."""
        deadline = time.monotonic() + timeout
        settled = None
        while True:
            expected, seen = self.public_events(), self.processed()
            if expected == seen and settled == expected:  # the same twice, 0.3 s apart
                return expected
            settled = expected if expected == seen else None
            if time.monotonic() > deadline:
                raise AssertionError(f"monitoring behind: stored {expected}, applied {seen}")
            eventlet.sleep(0.3)


@pytest.fixture
def start_platform(container_factory, rabbit_config, make_database):
    relays = []

    def start(monitoring_config=None, notification_config=None):
        clock = Clock()
        names = ("booking", "notification", "kiosk_gateway", "registry", "complaints",
                 "monitoring")
        databases = {name: make_database(ROOT / name / "migrations") for name in names}
        ports = {name: unused_port() for name in names}
        common = {name: dict(rabbit_config, DATABASE_URL=databases[name],
                             WEB_SERVER_ADDRESS=f"127.0.0.1:{ports[name]}",
                             EVENT_RETRY_DELAYS_MS=[100, 200]) for name in names}
        configs = {
            "booking": dict(BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=3600,
                            LAPSE_SWEEP_SECONDS=3600,
                            OPERATOR_TOKEN_SHA256=[sha(TOKENS["booking"])],
                            CLOSURE_TOKEN_SHA256=[sha(TOKENS["booking"])],
                            REMINDER_SWEEP_SECONDS=3600,
                            BOOK_AGAIN_URL="https://asan.example.az/booking"),
            "notification": SMTP | (notification_config or {}),
            "kiosk_gateway": dict(ADMIN_TOKEN_SHA256=[sha(TOKENS["kiosk_gateway"])],
                                  KIOSK_HEALTH_SECONDS=3600),
            "registry": dict(STAFF_TOKEN_SHA256=[sha(TOKENS["registry"])]),
            "complaints": dict(STAFF_TOKEN_SHA256=[sha(TOKENS["complaints"])],
                               DEADLINE_CHECK_SECONDS=3600),
            "monitoring": dict(REPORT_TOKEN_SHA256=[sha(TOKENS["monitoring"])],
                               DAILY_REPORT_CHECK_SECONDS=3600, MONITOR_GAUGE_SECONDS=3600,
                               EVENT_LOGS={name: databases[name] for name in CATALOGS})
            | (monitoring_config or {}),
        }
        classes = {"booking": BookingService, "notification": NotificationService,
                   "kiosk_gateway": KioskGatewayService, "registry": RegistryService,
                   "complaints": ComplaintsService, "monitoring": MonitoringService}
        containers = {}
        for name in names:
            # Each service starts from its config.yaml (every key it declares is
            # required), on the test's own broker, database and port.
            container = container_factory(classes[name],
                                          service_config(name) | common[name] | configs[name])
            replace_dependencies(container, "clock").side_effect = clock
            container.start()
            containers[name] = container
        for name in names:
            relay = Relay(name, databases[name], rabbit_config["AMQP_URI"], signer_for(name),
                          poll_interval=0.2,
                          sequence_format=service_config(name)["EVENT_SEQUENCE_FORMAT"])
            relays.append((relay, eventlet.spawn(relay.run)))
        platform = Platform(clock, {name: f"http://127.0.0.1:{ports[name]}" for name in names},
                            databases, containers)
        platform.container_factory = container_factory
        return platform

    yield start
    for relay, thread in relays:
        relay.stop()
    for relay, thread in relays:
        thread.wait()
