"""Booking and the kiosk gateway running in-process on the real PostgreSQL (a
database each) and RabbitMQ (RPC between them), with one clock the test moves: a
booking must be made a day ahead (Q-1) and activated at its time (Q-7)."""
import hashlib
import json
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from services.booking.service import BookingService
from services.kiosk_gateway.service import KioskGatewayService
from shared.runtime.config import service_config
from tests.clock import Clock
from tests.citizens import FRONTEND_TOKEN, as_citizen
from tests.conftest import unused_port

ADMIN = {"Authorization": "Bearer admin-dev-token"}
PAGES_TOKEN_SHA256 = hashlib.sha256(FRONTEND_TOKEN.encode()).hexdigest()
ROOT = Path(__file__).resolve().parents[3] / "services"


class Stack:
    def __init__(self, booking_url, gateway_url, booking_db, gateway_db, clock):
        self.booking_url, self.gateway_url = booking_url, gateway_url
        self.booking_db, self.gateway_db, self.clock = booking_db, gateway_db, clock

    def kiosk(self, centre):
        response = requests.post(f"{self.gateway_url}/admin/kiosks", json={"centre": centre},
                                 headers=ADMIN, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def _private_code(self, booking_id, template, key):
        with psycopg.connect(self.booking_db) as conn:
            for (body,) in conn.execute(
                    "SELECT body FROM outbox WHERE exchange = 'booking.private'"):
                message = json.loads(bytes(body))
                data = message["data"]
                if data["reference"] == f"booking-{booking_id}" and data["template"] == template:
                    return data["variables"][key]
        raise AssertionError(f"no {template} for {booking_id}")

    def confirmed_booking(self, centre="baku-1", service="passport", day="2026-11-24",
                          at="10:15", id_card=None):
        """Booked the day before, confirmed with the emailed code; returns
        (booking id, order code). The codes are read from the outbox, where the
        private email requests wait for the relay (not running here)."""
        import uuid

        self.clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
        form = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": id_card or f"AZE{uuid.uuid4().int % 10 ** 8:08d}",
                "phone": "+994501234567", "email": f"c-{uuid.uuid4().hex[:8]}@example.az",
                "service": service, "centre": centre, "date": day, "time": at}
        # each booking another citizen, as the pages forward them (tests.citizens)
        response = requests.post(f"{self.booking_url}/bookings", json=form, timeout=10,
                                 headers=as_citizen())
        assert response.status_code == 202, response.text
        booking_id = response.json()["booking_id"]
        code = self._private_code(booking_id, "booking_confirmation_code", "code")
        confirmed = requests.post(f"{self.booking_url}/bookings/{booking_id}/confirm",
                                  json={"code": code}, timeout=10)
        assert confirmed.status_code == 200, confirmed.text
        return booking_id, self._private_code(booking_id, "booking_order_code", "order_code")

    def activate(self, token, order_code):
        return requests.post(f"{self.gateway_url}/kiosk/activations",
                             json={"order_code": order_code}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"} if token else {})

    def booking_events(self, booking_id):
        with psycopg.connect(self.booking_db) as conn:
            return [row[0] for row in conn.execute(
                "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
                (f"booking-{booking_id}",))]


@pytest.fixture
def start_stack(container_factory, rabbit_config, make_database):
    def start(booking_config=None, gateway_config=None):
        clock = Clock()
        booking_db = make_database(ROOT / "booking" / "migrations")
        gateway_db = make_database(ROOT / "kiosk_gateway" / "migrations")
        booking_port, gateway_port = unused_port(), unused_port()
        shipped = service_config("booking")
        overrides = dict(booking_config or {})
        # a test names only the rate limits it changes; the others stay as shipped
        overrides["RATE_LIMITS"] = shipped["RATE_LIMITS"] | overrides.get("RATE_LIMITS", {})
        booking = container_factory(BookingService, dict(
            shipped, **rabbit_config,
            DATABASE_URL=booking_db, BOOKING_CODE_KEY="test-key",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{booking_port}", HOLD_SWEEP_SECONDS=3600,
            LAPSE_SWEEP_SECONDS=3600, FRONTEND_TOKEN_SHA256=[PAGES_TOKEN_SHA256],
            **overrides))
        # The gateway's settings are one object: it starts from its config.yaml.
        gateway = container_factory(KioskGatewayService, service_config("kiosk_gateway") | dict(
            rabbit_config, DATABASE_URL=gateway_db, WEB_SERVER_ADDRESS=f"127.0.0.1:{gateway_port}",
            ADMIN_TOKEN_SHA256=["78abf365bb5655ddc086c68b35f02e42b589a9afabb58684be7af259d96b492a"],
            KIOSK_HEALTH_SECONDS=3600, **(gateway_config or {})))
        for container in (booking, gateway):
            fake = replace_dependencies(container, "clock")
            fake.side_effect = clock
            container.start()
        stack = Stack(f"http://127.0.0.1:{booking_port}", f"http://127.0.0.1:{gateway_port}",
                      booking_db, gateway_db, clock)
        stack.booking_container, stack.gateway_container = booking, gateway
        return stack
    return start


@pytest.fixture
def stack(start_stack):
    return start_stack()
