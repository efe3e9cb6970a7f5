"""Holds and the clock, with the booking service running in-process on the real
database and broker: an unconfirmed hold lapses at its expiry and frees its slot; a
holiday is refused (the clock is the only thing replaced, and the tests move it: a
hold's fifteen minutes pass in no time)."""
import json
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
import requests
from nameko.testing.services import entrypoint_hook, replace_dependencies

from shared.vocabulary.clock import BAKU
from services.booking.service import BookingService
from shared.runtime.config import service_config
from tests.clock import Clock

pytestmark = pytest.mark.integration
HOLD = timedelta(minutes=15)  # the service's default HOLD_MINUTES


@pytest.fixture
def booking(container_factory, rabbit_config, fresh_database, free_port):
    def start(**overrides):
        config = dict(service_config("booking"), **rabbit_config, DATABASE_URL=fresh_database,
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


def events_of(database, booking_id):
    """The event types of booking ``booking_id``'s stream, in order."""
    with psycopg.connect(database) as conn:
        return [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            (f"booking-{booking_id}",))]


def test_q2_an_unconfirmed_hold_lapses_at_its_expiry_and_frees_the_slot(booking,
                                                                       fresh_database):
    container, clock, url = booking()
    now = Clock()  # Monday 23 November 2026, 10:00 Baku
    clock.side_effect = now
    first = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert first.status_code == 202
    expires = datetime.fromisoformat(first.json()["hold_expires_at"])
    assert expires == now.now + HOLD
    full = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert full.status_code == 409 and full.json()["reasons"][0]["code"] == "slot_full"

    now.now = expires - timedelta(seconds=1)  # still held: the sweep leaves it
    with entrypoint_hook(container, "sweep_holds") as sweep:
        sweep()
    assert events_of(fresh_database, first.json()["booking_id"]) == ["BookingRequested"]
    now.now = expires
    with entrypoint_hook(container, "sweep_holds") as sweep:
        sweep()
    with psycopg.connect(fresh_database) as conn:
        taken = conn.execute("SELECT taken FROM slot_usage").fetchone()[0]
    assert events_of(fresh_database, first.json()["booking_id"]) == \
        ["BookingRequested", "HoldExpired"]
    assert taken == 0
    again = requests.post(f"{url}/bookings", json=form("2026-11-24", "10:15"), timeout=10)
    assert again.status_code == 202


def test_q2_a_lapsed_hold_gives_its_place_back_even_before_the_sweep(booking):
    container, clock, url = booking()
    now = Clock()
    clock.side_effect = now
    held = requests.post(f"{url}/bookings", json=form("2026-11-24", "11:00"), timeout=10)
    assert held.status_code == 202
    now.now = datetime.fromisoformat(held.json()["hold_expires_at"]) - timedelta(seconds=1)
    assert requests.post(f"{url}/bookings", json=form("2026-11-24", "11:00"),
                         timeout=10).status_code == 409  # still held
    now.now += timedelta(seconds=1)  # the sweep runs hourly here: it has not come by
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
