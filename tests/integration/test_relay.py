"""The outbox relay on the real PostgreSQL and RabbitMQ (non-negotiable 3):
an event is published iff its transaction committed, even when the relay dies."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import eventlet
import pytest
import yaml

from shared.runtime.amqp import connect, events_exchange_name
from shared.runtime.db import make_pool
from shared.vocabulary.envelope import format_sequence
from shared.runtime.eventstore import NO_STREAM, EventStore, unit_of_work
from shared.runtime.relay import FAULT_ENV
from shared.runtime.signatures import load_keys, public_jwks, verify_event
from tests.conftest import platform_config
from tests.demo import CATALOG, thing
from tests.keys import write_key_set
from tests.markers import wait_until

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def bound_queue(amqp_uri_for_vhost):
    """A queue bound to the demo exchange, as a plain outside subscriber would (D-3)."""
    conn = connect(amqp_uri_for_vhost)
    channel = conn.channel()
    channel.exchange_declare(events_exchange_name("demo"), "topic", durable=True,
                             auto_delete=False)
    name = f"subscriber-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(name, durable=True, auto_delete=False)
    channel.queue_bind(name, events_exchange_name("demo"), "#")
    yield channel, name
    conn.close()


@pytest.fixture
def relay_config(tmp_path, fresh_database, amqp_uri_for_vhost):
    path = tmp_path / "demo" / "config.yaml"
    path.parent.mkdir()
    keys, _ = write_key_set(tmp_path, "demo")
    # RELAY_METRICS_PORT 0: no /metrics (the stack's relays hold the shipped ports).
    path.write_text(yaml.safe_dump(platform_config(
        SERVICE_NAME="demo", DATABASE_URL=fresh_database, AMQP_URI=amqp_uri_for_vhost,
        RELAY_BATCH_SIZE=20, RELAY_POLL_INTERVAL=0.2, RELAY_METRICS_PORT=0,
        EVENT_SIGNING_KEYS=str(keys))))
    return path


def run_relay(config, fault=None):
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.Popen([sys.executable, "-m", "shared.runtime.relay", str(config)], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def drain(channel, queue, expect, timeout=30, raw=None):
    """Messages of ``queue`` until ``expect`` distinct ids arrived (or time is up).
    ``raw``: a list that receives each message's body as published."""
    received = []
    deadline = time.monotonic() + timeout
    while len({m["id"] for m in received}) < expect and time.monotonic() < deadline:
        message = channel.basic_get(queue, no_ack=True)
        if message is None:
            time.sleep(0.05)
            continue
        assert message.properties["content_type"] == "application/cloudevents+json"
        body = json.loads(message.body)
        assert message.properties["message_id"] == body["id"]
        received.append(body)
        if raw is not None:
            raw.append(message.body if isinstance(message.body, bytes) else message.body.encode())
    return received


def commit_events(database_url, count, first=0):
    pool = make_pool(database_url, size=2)
    ids = []
    try:
        for n in range(first, first + count):
            with unit_of_work(pool, EventStore(CATALOG), str(uuid.uuid4())) as uow:
                event = thing(uow, str(n), n, secret="hidden")
                uow.append(f"thing-{n}", NO_STREAM, event)
                ids.append(event.id)
    finally:
        pool.close()
    return ids


def outbox_size(database_url):
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


@pytest.mark.parametrize("fault", ["after-fetch", "after-publish"])
def test_relay_killed_mid_flight_loses_nothing(fault, fresh_database, relay_config,
                                               bound_queue):
    channel, queue = bound_queue
    ids = commit_events(fresh_database, 45)

    dying = run_relay(relay_config, fault=fault)
    assert dying.wait(timeout=60) == -signal.SIGKILL  # it really died, mid-batch
    assert outbox_size(fresh_database) == 45  # nothing was marked sent

    relay = run_relay(relay_config)
    bodies = []
    try:
        received = drain(channel, queue, expect=45, raw=bodies)
    finally:
        relay.terminate()
        relay.wait(timeout=30)

    assert {m["id"] for m in received} == set(ids)  # every committed event arrived
    for message in received:  # a duplicate is the same event: same id, same data
        assert message["type"] == "ThingHappened" and "secret" not in message["data"]
    if fault == "after-fetch":
        assert len(received) == 45  # nothing had gone out before the crash
    assert outbox_size(fresh_database) == 0
    # Issue 14: numbered 1…45 in commit order, no gap; a copy published again after
    # the crash is byte for byte the first (same sequence, same signature), and each
    # signature verifies against the service's JWKS.
    first_copy = {}
    for message, body in zip(received, bodies):
        assert first_copy.setdefault(message["sequence"], body) == body
    assert [json.loads(first_copy[n])["id"] for n in sorted(first_copy)] == ids
    assert sorted(first_copy) == [format_sequence(n) for n in range(1, 46)]  # strings
    jwks = public_jwks(load_keys(yaml.safe_load(relay_config.read_text())["EVENT_SIGNING_KEYS"]))
    for body in first_copy.values():
        verify_event(body, jwks)


def test_rolled_back_transaction_publishes_nothing(fresh_database, relay_config, bound_queue):
    channel, queue = bound_queue
    pool = make_pool(fresh_database, size=2)
    try:
        with pytest.raises(RuntimeError):
            with unit_of_work(pool, EventStore(CATALOG), str(uuid.uuid4())) as uow:
                uow.append("thing-rb", NO_STREAM, thing(uow, "rb"))
                uow.flush()
                raise RuntimeError("the command failed after its events were written")
    finally:
        pool.close()
    committed = commit_events(fresh_database, 1)  # a marker that does go out
    relay = run_relay(relay_config)
    try:
        received = drain(channel, queue, expect=1)
        # and one committed after it: the relay has been through the outbox again
        later = commit_events(fresh_database, 1, first=1)

        def later_arrived():
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                received.append(json.loads(message.body))
            return later[0] in [m["id"] for m in received]

        wait_until(later_arrived, "the event committed after the marker")
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    assert [m["id"] for m in received] == committed + later


def _leading(database_url, timeout=30):
    """Wait until a relay holds the service's relay lock (it is past its start-up)."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND"
                " database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the relay did not start"
            time.sleep(0.05)


def test_relay_stops_cleanly_on_sigterm(relay_config, fresh_database):
    relay = run_relay(relay_config)
    _leading(fresh_database)  # (a SIGTERM during its imports would just end it)
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=20) == 0


def test_two_relays_of_one_service_one_publishes_the_other_takes_over_when_it_dies(
        fresh_database, relay_config, bound_queue):
    """SCALE=2 (issue 13): a second relay stands by while the first holds the service's
    relay lock, and publishes once the first is killed — nothing lost, one order."""
    import psycopg

    channel, queue = bound_queue
    first = run_relay(relay_config)
    _leading(fresh_database)  # the first holds the lock before the second starts
    second = run_relay(relay_config)
    said = []
    reader = eventlet.spawn(lambda: said.extend(iter(second.stderr.readline, b"")))
    try:
        wait_until(lambda: any(b"standing by" in line for line in said),
                   "the second relay standing by")
        ids = commit_events(fresh_database, 20)
        received = drain(channel, queue, expect=20)
        assert [m["id"] for m in received] == ids  # in commit order, by one publisher
        with psycopg.connect(fresh_database) as conn:
            holders = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
        assert holders == 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        later = commit_events(fresh_database, 10, first=20)
        assert [m["id"] for m in drain(channel, queue, expect=10)] == later
    finally:
        for relay in (first, second):
            if relay.poll() is None:
                relay.terminate()
                relay.wait(timeout=30)
        reader.wait()
