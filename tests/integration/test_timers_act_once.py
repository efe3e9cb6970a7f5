"""Several instances of each service (issue 13 §2, SCALE=N): their scheduled jobs fire
in every instance, and still act once. The lapse job (tests/integration/kiosk) and the
complaint deadlines (tests/integration/complaints) have their own tests; here the hold
sweep and the daily control report, each with two more instances on one database whose
timers fire every 50 ms."""
from datetime import datetime

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.booking.service import BookingService
from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from tests.clock import Clock
from tests.conftest import unused_port
from tests.markers import timer_runs, wait_until

from .booking.test_holds import form
from .monitoring.conftest import start_platform  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_q2_each_lapsed_hold_expires_once_whichever_instance_sweeps(container_factory,
                                                                   rabbit_config,
                                                                   fresh_database):
    clock = Clock()
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)

    def instance(sweep_seconds):
        port = unused_port()
        container = container_factory(BookingService, dict(
            service_config("booking"), **rabbit_config,
            DATABASE_URL=fresh_database, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=sweep_seconds,
            LAPSE_SWEEP_SECONDS=3600, HOLD_MINUTES=1))
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        return container, f"http://127.0.0.1:{port}"

    _, url = instance(3600)
    held = [requests.post(f"{url}/bookings", json=form("2026-11-24", at), timeout=10)
            for at in ("09:00", "09:15", "09:30", "09:45", "10:00")]
    assert [answer.status_code for answer in held] == [202] * 5
    clock.now = datetime(2026, 11, 23, 10, 2, tzinfo=BAKU)  # every hold lapsed
    sweepers = [instance(0.05)[0] for _ in range(2)]

    def expired():
        with psycopg.connect(fresh_database) as conn:
            return [row[0] for row in conn.execute(
                "SELECT stream_id FROM events WHERE event_type = 'HoldExpired' ORDER BY 1")]

    wait_until(lambda: len(expired()) >= 5, "every hold expiring")
    for sweeper in sweepers:  # each has swept again since: nothing more may happen
        timer_runs(sweeper, "sweep_holds")
    assert expired() == sorted(f"booking-{answer.json()['booking_id']}" for answer in held)


def test_m4_the_daily_report_is_kept_once_by_two_instances(start_platform):
    platform = start_platform()
    platform.clock.set("2026-11-25", "00:45")  # past DAILY_REPORT_AFTER_MINUTES (30)
    instances = []
    for _ in range(2):
        instance = platform.container_factory(
            platform.containers["monitoring"].service_cls,
            dict(platform.containers["monitoring"].config,
                 WEB_SERVER_ADDRESS=f"127.0.0.1:{unused_port()}",
                 DAILY_REPORT_CHECK_SECONDS=0.05))
        replace_dependencies(instance, "clock").side_effect = platform.clock
        instance.start()
        instances.append(instance)
    database = platform.databases["monitoring"]

    def kept():
        with psycopg.connect(database) as conn:
            return conn.execute("SELECT day::text, count(*) FROM control_reports"
                                " WHERE trigger = 'daily' GROUP BY day").fetchall()

    wait_until(kept, "a daily report kept")
    for instance in instances:  # each has checked again since: nothing more may happen
        timer_runs(instance, "daily_report")
    assert kept() == [("2026-11-24", 1)]
    with psycopg.connect(database) as conn:
        announced = conn.execute("SELECT count(*) FROM events"
                                 " WHERE event_type = 'ControlReportGenerated'").fetchone()[0]
    assert announced == 1
