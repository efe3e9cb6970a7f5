"""Q-8: the lapse job stays correct with several instances; kiosk heartbeats."""

import psycopg
import pytest
import requests
from nameko.testing.services import entrypoint_hook, replace_dependencies
from prometheus_client import REGISTRY

from services.booking.service import BookingService
from shared.runtime.config import service_config
from tests.conftest import unused_port
from tests.markers import timer_runs, wait_until

pytestmark = pytest.mark.integration


def test_two_instances_of_the_lapse_job_lapse_each_booking_once(stack, container_factory,
                                                                 rabbit_config):
    """Two more booking instances on the same database, their lapse timers firing
    every 50 ms at once: each booking lapses exactly once."""
    ids = [stack.confirmed_booking(at=at)[0] for at in ("09:00", "09:15", "09:30", "10:00")]
    kept = stack.confirmed_booking(at="11:45")[0]  # lapses only after 11:55
    stack.clock.set("2026-11-24", "11:50")
    instances = []
    for _ in range(2):
        instance = container_factory(BookingService, dict(
            service_config("booking"), **rabbit_config,
            DATABASE_URL=stack.booking_db, BOOKING_CODE_KEY="test-key",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{unused_port()}", LAPSE_SWEEP_SECONDS=0.05,
            HOLD_SWEEP_SECONDS=3600))
        replace_dependencies(instance, "clock").side_effect = stack.clock
        instance.start()
        instances.append(instance)

    def lapsed():
        with psycopg.connect(stack.booking_db) as conn:
            return [row[0] for row in conn.execute(
                "SELECT stream_id FROM events WHERE event_type = 'BookingLapsed' ORDER BY 1")]

    wait_until(lambda: len(lapsed()) >= len(ids), "every booking lapsing")
    for instance in instances:  # each has swept again since: nothing more may happen
        timer_runs(instance, "sweep_lapses")
    assert lapsed() == sorted(f"booking-{i}" for i in ids)
    assert stack.booking_events(kept)[-1] == "CodeConfirmed"


def test_kiosks_not_seen_recently_show_in_a_metric(stack):
    quiet = stack.kiosk("sheki")
    alive = stack.kiosk("sheki")
    stack.clock.set("2026-11-24", "10:00")
    for kiosk in (quiet, alive):
        requests.post(f"{stack.gateway_url}/kiosk/heartbeat", timeout=10,
                      headers={"Authorization": f"Bearer {kiosk['token']}"})
    stack.clock.set("2026-11-24", "10:05")
    requests.post(f"{stack.gateway_url}/kiosk/heartbeat", timeout=10,
                  headers={"Authorization": f"Bearer {alive['token']}"})
    with entrypoint_hook(stack.gateway_container, "kiosk_health") as check:
        check()
    assert REGISTRY.get_sample_value("asan_kiosks_not_seen", {"centre": "sheki"}) == 1
