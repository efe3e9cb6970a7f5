"""Holds and the clock, with the booking service running in-process on the real
database and broker: an unconfirmed hold lapses and frees its slot; a holiday is
refused (the clock is the only thing replaced)."""
import json
import time
import uuid
from datetime import datetime

import psycopg
import pytest
import requests
from nameko.testing.services import entrypoint_hook, replace_dependencies

from shared.clock import BAKU
from services.booking.service import BookingService
from tests.clock import running

pytestmark = pytest.mark.integration


@pytest.fixture
def booking(container_factory, rabbit_config, fresh_database, free_port):
    def start(**overrides):
        config = dict(rabbit_config, DATABASE_URL=fresh_database,
                      WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port}", BOOKING_CODE_KEY="test-key",
                      HOLD_SWEEP_SECONDS=3600, **overrides)
        container = container_factory(BookingService, config)
        clock = replace_dependencies(container, "clock")
        container.start()
        return container, clock, f"http://127.0.0.1:{free_port}"
    return start


def form(day, at, centre="baku-1", service="apostille"):  # apostille: one counter
    return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "phone": "+994501234567",
            "email": f"c-{uuid.uuid4().hex[:8]}@example.az", "service": service,
            "centre": centre, "date": day, "time": at}


def test_an_unconfirmed_hold_lapses_and_frees_the_slot(booking, fresh_database):
    container, clock, url = booking(HOLD_MINUTES=0.02)  # 1.2 s
    clock.side_effect = running()  # Monday 23 November 2026, 10:00 on
    first = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert first.status_code == 202
    full = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert full.status_code == 409 and full.json()["reasons"][0]["code"] == "slot_full"

    time.sleep(1.5)
    with entrypoint_hook(container, "sweep_holds") as sweep:
        sweep()
    with psycopg.connect(fresh_database) as conn:
        types = [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            ("booking-" + first.json()["booking_id"],))]
        taken = conn.execute("SELECT taken FROM slot_usage").fetchone()[0]
    assert types == ["BookingRequested", "HoldExpired"]
    assert taken == 0
    again = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert again.status_code == 202


def test_a_lapsed_hold_gives_its_place_back_even_before_the_sweep(booking):
    container, clock, url = booking(HOLD_MINUTES=0.02)
    clock.side_effect = running()  # Monday 23 November 2026, 10:00 on
    assert requests.post(f"{url}/bookings", json=form("2026-11-24", "11:00"),
                         timeout=10).status_code == 202
    time.sleep(1.5)
    assert requests.post(f"{url}/bookings", json=form("2026-11-24", "11:00"),
                         timeout=10).status_code == 202


def test_a_public_holiday_is_refused(booking, fresh_database):
    container, clock, url = booking()
    clock.return_value = datetime(2026, 12, 20, 10, 0, tzinfo=BAKU)
    response = requests.post(f"{url}/bookings", json=form("2026-12-31", "10:15"), timeout=10)
    assert response.status_code == 400
    reasons = response.json()["reasons"]
    assert [(r["field"], r["code"]) for r in reasons] == [("date", "holiday")]
    assert "Solidarity" in reasons[0]["en"]
    with psycopg.connect(fresh_database) as conn:  # nothing but the refusal is written
        assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] == 0
        refusal = conn.execute("SELECT data FROM events").fetchone()[0]
    assert refusal["reasons"] == [{"field": "date", "code": "holiday"}]
    assert "Leyla" not in json.dumps(refusal)
