"""The monitoring consumer's throughput (events applied to the read models, each with
its processed-event record, through RabbitMQ), next to a bare consumer that acks the
same messages in batches; the rebuild of the read models from the services' event
logs; and how long a day's control report takes, next to GET /live."""
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import amqp
import psycopg
import requests

from services.booking.events import CATALOG
from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from shared.runtime.amqp import CLOUDEVENTS_JSON, connect
from shared.vocabulary.envelope import new_id
from shared.ops.topology import declare

from services.monitoring import rebuild as monitoring_rebuild
from shared.runtime.eventstore import NO_STREAM, EventStore
from tests import days

from .common import (PORT_BASE, SETTINGS, comparison, delete_vhost, drop_database, figure,
                     fresh_database, measure, vhost, wait_up)

TOKEN_SHA256 = "e51680a7683a537d1cc61297e950628235f526e487df91362e9c1e26a27138ec"
PORT = PORT_BASE + 6
ACK_EVERY = 500


def _events(count, day):
    """``count`` public booking events: requests and confirmations of count/2 visits."""
    requested = datetime.combine(day - timedelta(days=1), datetime.min.time(), BAKU)
    for i in range(count // 2):
        booking = str(uuid.uuid4())
        at = requested + timedelta(seconds=i)
        slot = {"booking_id": booking, "centre": f"baku-{i % 5 + 1}", "service": "passport",
                "date": day.isoformat(), "time": f"{9 + i % 8:02d}:{(i % 4) * 15:02d}"}
        yield CATALOG.new("BookingRequested", f"booking-{booking}", slot | {
            "language": "az", "channel": "api", "requested_at": at.isoformat(),
            "hold_expires_at": (at + timedelta(minutes=15)).isoformat(), "code_hash": "x",
            "max_wrong_codes": 5, "applicant": {"name": "L", "surname": "M", "patronymic": "Ə",
                                                "id_card": "AZE1", "phone": "+994",
                                                "email": "x@example.az"}}, new_id())
        yield CATALOG.new("CodeConfirmed", f"booking-{booking}", slot | {
            "confirmed_at": (at + timedelta(minutes=2)).isoformat(), "order_code_hash": "x"},
            new_id())


def _publish(amqp_uri, envelopes, exchange="booking.events"):
    conn = connect(amqp_uri, confirm_publish=True)
    try:
        channel = conn.channel()
        for envelope in envelopes:
            public = CATALOG.public_data(envelope.type, envelope.data)
            channel.basic_publish(amqp.Message(
                envelope.with_data(public).to_json().encode(), content_type=CLOUDEVENTS_JSON,
                content_encoding="utf-8", message_id=envelope.id, type=envelope.type,
                delivery_mode=2), exchange=exchange, routing_key=envelope.type)
    finally:
        conn.close()


def _bare_consumer(amqp_uri, envelopes):
    """Baseline: the same messages through a queue, drained by a py-amqp consumer with a
    large prefetch that acks every ACK_EVERY-th message with ``multiple`` (and the last)."""
    conn = connect(amqp_uri)
    try:
        channel = conn.channel()
        channel.exchange_declare("bench.bare", "topic", durable=True, auto_delete=False)
        channel.queue_declare("bench.bare", durable=True, auto_delete=False)
        channel.queue_bind("bench.bare", "bench.bare", "#")
        _publish(amqp_uri, envelopes, exchange="bench.bare")
        received = [0]
        channel.basic_qos(0, 4 * ACK_EVERY, False)

        def on_message(message):
            received[0] += 1
            if received[0] % ACK_EVERY == 0 or received[0] == len(envelopes):
                message.channel.basic_ack(message.delivery_tag, multiple=True)

        channel.basic_consume("bench.bare", callback=on_message)
        conn.drain_events(timeout=30)
        started = time.perf_counter()  # from the first message, as for the service
        while received[0] < len(envelopes):
            conn.drain_events(timeout=30)
        return time.perf_counter() - started  # the queue goes with the vhost
    finally:
        conn.close()


def consumer():
    """M-1, M-2: the monitoring consumer draining a full queue of booking events into its read
    models (events/s, target 5000/s) next to a bare py-amqp consumer; the rebuild from the
    event logs (events/s, target 20000/s); and a day's control report (ms, median of 7).
    Returns ``[comparison, figure, figure]``."""
    count = 4000 if SETTINGS.quick else 40000
    day = days.bookable_day(ahead=1)  # a day the centres open
    vhost_name = f"asan-bench-{uuid.uuid4().hex[:6]}"
    amqp_uri = vhost(vhost_name)
    database = fresh_database("asan_bench_monitoring")
    events = list(_events(count, day))
    declare(amqp_uri, services=["monitoring"])
    config = service_config("monitoring") | {
        "AMQP_URI": amqp_uri, "DATABASE_URL": database,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{PORT}", "REPORT_TOKEN_SHA256": [TOKEN_SHA256],
        "DAILY_REPORT_CHECK_SECONDS": 3600, "MONITOR_GAUGE_SECONDS": 3600}
    services = {"services": [{"class": "services.monitoring.service:MonitoringService",
                              "config": config}]}
    url = f"http://127.0.0.1:{PORT}"
    # The messages wait in the consumer's queue before the service starts: what is
    # timed is the consumer's own pace, from the first applied event to the last.
    _publish(amqp_uri, events)
    stack = subprocess.Popen([sys.executable, "-m", "bench.stack", json.dumps(services)],
                             env=dict(os.environ), stderr=subprocess.DEVNULL)
    try:
        with psycopg.connect(database, autocommit=True) as conn:
            def applied():
                return conn.execute("SELECT count(*) FROM processed_events").fetchone()[0]

            deadline = time.monotonic() + 600
            while (first := applied()) == 0:
                assert time.monotonic() < deadline and stack.poll() is None
                time.sleep(0.01)
            started = time.perf_counter()
            while (done := applied()) < count:
                assert time.monotonic() < deadline, "monitoring did not catch up"
                time.sleep(0.05)
            consumed = time.perf_counter() - started
        wait_up(url, stack)
        staff = {"Authorization": "Bearer monitoring-dev-token"}
        report_ms, live_ms = [], []
        for _ in range(7):
            t = time.perf_counter()
            answer = requests.get(f"{url}/reports/control", params={"day": day.isoformat()},
                                  headers=staff, timeout=60)
            report_ms.append((time.perf_counter() - t) * 1000)
            assert answer.json()["funnel"]["visits"]["confirmed"] == count // 2
            t = time.perf_counter()
            requests.get(f"{url}/live", timeout=10)
            live_ms.append((time.perf_counter() - t) * 1000)
        bare = _bare_consumer(amqp_uri, events)
        rebuilt = _rebuild(database, events)
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
        drop_database("asan_bench_monitoring")
        delete_vhost(vhost_name)
    live = measure(done - first, consumed, [])
    return [
        comparison(
            "monitoring", f"Monitoring consumer: {count:,} booking events from RabbitMQ into "
            "the read models", "events/s",
            "MonitoringService's live consumers (as deployed, a bench stack of its own): "
            "each event applied with its processed-event record, exactly once; timed from "
            "the first applied event to the last, the queue full before it starts",
            f"a bare py-amqp consumer of the same messages: prefetch {4 * ACK_EVERY}, one "
            f"ack (multiple) per {ACK_EVERY}, nothing applied",
            [{"clients": 1, "ours": live, "baseline": measure(count, bare, [])}],
            target={"rate": 5000},
            bounds="a drain of a full queue: throughput only, no per-event latency"),
        figure("monitoring_rebuild", f"Monitoring rebuild from the event logs ({count:,} "
               "booking events, services.monitoring.rebuild)", count / rebuilt, "events/s",
               target={"rate": 20000}, seconds=rebuilt),
        figure("control_report", f"Control report of a day with {count // 2:,} booked visits "
               "(JSON over HTTP, median of 7)", statistics.median(report_ms), "ms",
               live_ms=statistics.median(live_ms)),
    ]


def _rebuild(database, events):
    """Seconds ``services.monitoring.rebuild`` takes for ``events`` stored in a booking
    event log (the other services' logs empty)."""
    booking_log = fresh_database("asan_bench_booking_log")
    empty_log = fresh_database("asan_bench_empty_log")
    try:
        store = EventStore(CATALOG)
        with psycopg.connect(booking_log) as conn:
            for k in range(0, len(events), 2):
                if k % 2000 == 0:
                    conn.commit()
                store.append(conn, events[k].subject, NO_STREAM, events[k:k + 2])
            conn.commit()
        logs = {source: empty_log for source in monitoring_rebuild.CATALOGS}
        logs["booking"] = booking_log
        started = time.perf_counter()
        applied = monitoring_rebuild.rebuild(database, logs)
        seconds = time.perf_counter() - started
        assert applied["booking"] == len(events), applied
        return seconds
    finally:
        drop_database("asan_bench_booking_log")
        drop_database("asan_bench_empty_log")
