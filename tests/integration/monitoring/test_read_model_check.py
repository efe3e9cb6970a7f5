"""D-1, issue 16: ``shared.ops.rebuild monitoring`` finds the read models equal to the fold
of the events the consumers processed and of the service's own log (the kept
reports), on a running platform: events still in flight are no difference; a row
changed behind the events' back is one."""
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from services.monitoring import read_model
from services.monitoring.events import CATALOG
from shared.runtime.eventstore import EventStore
from shared.ops.rebuild import rebuild

pytestmark = pytest.mark.integration

DAY = "2026-11-23"


def test_d1_monitoring_read_models_are_the_fold_of_what_was_processed(start_platform):
    platform = start_platform()
    platform.clock.set(DAY, "10:00")
    platform.request_booking()
    platform.wait_caught_up()
    for body in ({"day": DAY}, {"day": DAY, "centre": "baku-1"}):  # M-4: kept reports
        created = requests.post(platform.url("monitoring", "/reports/control"), json=body,
                                headers=platform.auth("monitoring"), timeout=30)
        assert created.status_code == 201, created.text
    config = platform.containers["monitoring"].config
    assert rebuild("monitoring", config=config) == []

    # Consumers stopped: the booking's events are stored and published, not applied.
    platform.containers["monitoring"].stop()
    platform.request_booking(at="10:30")
    assert platform.processed()["booking"] < platform.public_events()["booking"]
    assert rebuild("monitoring", config=config) == []

    with psycopg.connect(platform.databases["monitoring"]) as conn:
        assert conn.execute("SELECT count(*) FROM control_reports").fetchone()[0] == 2
        conn.execute("UPDATE bookings SET channel = 'kiosk'")
    differences = rebuild("monitoring", config=config)
    assert [(d.table, d.live_count, d.rebuilt_count) for d in differences] == [
        ("bookings", 1, 1)]


def test_d1_the_replay_reads_each_event_once_in_the_stores_order_past_a_power_of_ten(
        make_database):
    """Transaction ids 998 … 1002 sorted as text would put 1000 before 998: the
    replay's pages must follow the numbers (``EventStore.batches``, the walk the
    monitoring replay and every other rebuild use)."""
    database = make_database(Path(read_model.__file__).parent / "migrations")
    with psycopg.connect(database) as conn:
        for tx in (1002, 998, 1000, 999, 1001):
            conn.execute(
                "INSERT INTO events (stream_id, version, event_id, event_type, schema_version,"
                " data, occurred_at, correlation_id, tx) VALUES (%s, 1, %s, 'Other', 1, '{}',"
                " now(), %s, %s::text::xid8)",
                (f"s-{tx}", str(uuid.uuid4()), str(uuid.uuid4()), tx))
    with psycopg.connect(database) as conn:
        read = [event.tx for batch in EventStore(CATALOG).batches(conn, 2, visible=True)
                for event in batch]
    assert read == [998, 999, 1000, 1001, 1002]
