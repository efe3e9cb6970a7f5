"""The monitoring consumer's throughput (events applied to the read models, each with
its processed-event record, through RabbitMQ), next to a bare consumer that only acks
the same messages; and how long a day's control report takes, next to GET /live."""
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import amqp
import psycopg
import requests

from services.booking.events import CATALOG
from services.booking.reference import BAKU
from shared.clock import baku_today
from shared.amqp import CLOUDEVENTS_JSON, connect
from shared.envelope import new_id
from shared.topology import declare

from .kiosk import vhost, wait_up
from .platform import AMQP_URI, drop_database, fresh_database

TOKEN_SHA256 = "e51680a7683a537d1cc61297e950628235f526e487df91362e9c1e26a27138ec"
PORT = int(os.environ.get("BENCH_MONITORING_PORT", 18106))


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
    """Baseline: the same messages through a queue, drained by a consumer that acks."""
    conn = connect(amqp_uri)
    try:
        channel = conn.channel()
        channel.exchange_declare("bench.bare", "topic", durable=True, auto_delete=False)
        channel.queue_declare("bench.bare", durable=True, auto_delete=False)
        channel.queue_bind("bench.bare", "bench.bare", "#")
        _publish(amqp_uri, envelopes, exchange="bench.bare")
        received = 0
        channel.basic_qos(0, 100, False)
        channel.basic_consume("bench.bare", callback=lambda message: message.channel.basic_ack(
            message.delivery_tag))
        started = time.perf_counter()
        while received < len(envelopes):
            conn.drain_events(timeout=30)
            received += 1
        return time.perf_counter() - started
    finally:
        conn.close()


def consumer(count=10000):
    day = baku_today() + timedelta(days=1)
    vhost_name = f"asan-bench-{uuid.uuid4().hex[:6]}"
    vhost(vhost_name)
    amqp_uri = AMQP_URI.rsplit("/", 1)[0] + "/" + quote(vhost_name, safe="")
    database = fresh_database("asan_bench_monitoring")
    events = list(_events(count, day))
    declare(amqp_uri, services=["monitoring"])
    config = {"AMQP_URI": amqp_uri, "DATABASE_URL": database,
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{PORT}", "REPORT_TOKEN_SHA256": [TOKEN_SHA256],
              "DAILY_REPORT_CHECK_SECONDS": 3600, "MONITOR_GAUGE_SECONDS": 3600,
              "max_workers": 20}
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
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
        drop_database("asan_bench_monitoring")
        api = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:55673")
        requests.delete(f"{api}/api/vhosts/{quote(vhost_name, safe='')}", timeout=10)
    return [
        {"what": f"monitoring consumer: {count} booking events from RabbitMQ into the read "
                 "models, each with its processed-event record (exactly once)",
         "ours": (done - first) / consumed, "unit": "events/s", "baseline": count / bare,
         "baseline_unit": "messages/s",
         "baseline_what": "the same messages drained by a bare py-amqp consumer that only acks"},
        {"what": f"control report of a day with {count // 2} booked visits (JSON over HTTP, "
                 "median of 7)",
         "ours": statistics.median(report_ms), "unit": "ms",
         "baseline": statistics.median(live_ms), "baseline_what": "GET /live of the same service"},
    ]
