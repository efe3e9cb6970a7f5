"""Non-negotiable 3 for the monitoring consumer: every event redelivered (same ids,
as a relay restarted after publishing would send them) leaves the report unchanged."""
import time

import amqp
import eventlet
import psycopg
import pytest
from prometheus_client import REGISTRY

from services.booking import events as booking_events
from services.monitoring.rebuild import public_events
from shared.runtime.amqp import CLOUDEVENTS_JSON, connect

pytestmark = pytest.mark.integration


def duplicates():
    return REGISTRY.get_sample_value("asan_events_consumed_total", {
        "service": "monitoring", "consumer": "monitoring.on_booking_event",
        "outcome": "duplicate"}) or 0


def test_redelivered_events_have_no_second_effect(start_platform, rabbit_config):
    platform = start_platform()
    platform.clock.set("2026-11-23", "10:00")
    for at in ("10:15", "10:30"):
        booking, email = platform.request_booking(at=at)
        platform.confirm(booking, email)
    stored = platform.wait_caught_up()["booking"]
    before = platform.report("2026-11-24", as_of="2026-11-24T20:00:00+04:00").json()
    seen = duplicates()

    with psycopg.connect(platform.databases["booking"]) as conn:
        again = list(public_events(conn, booking_events.CATALOG))
    assert len(again) == stored
    broker = connect(rabbit_config["AMQP_URI"], confirm_publish=True)
    try:
        channel = broker.channel()
        for envelope in again:
            channel.basic_publish(amqp.Message(
                envelope.to_json().encode(), content_type=CLOUDEVENTS_JSON,
                content_encoding="utf-8", message_id=envelope.id, type=envelope.type),
                exchange="booking.events", routing_key=envelope.type)
    finally:
        broker.close()
    deadline = time.monotonic() + 30
    while duplicates() < seen + stored:
        assert time.monotonic() < deadline, "the redelivered events were not all received"
        eventlet.sleep(0.1)

    assert platform.processed()["booking"] == stored
    after = platform.report("2026-11-24", as_of="2026-11-24T20:00:00+04:00").json()
    assert after == before
    assert after["funnel"]["visits"]["confirmed"] == 2
