"""D-3 (issue 14 §2) on the real PostgreSQL and RabbitMQ: every public event also goes, in
order and numbered without gaps, into its service's stream, from which a subscriber
that arrives later catches up — from the first retained event, from an offset it
kept, or from a time — and then keeps receiving live events. The subscriber here is
the runnable example of docs/EVENTS.md (examples/catch_up_subscriber.py, pika).
``sequence`` is the CloudEvents Sequence extension's string, which sorts in stream
order; a stream that still holds events of contract 1 (a JSON integer) before them
reads on without a gap (issue 23 §3)."""
import json
import threading
import time
import uuid
from datetime import datetime, timezone

import psycopg
import pytest

from examples.catch_up_subscriber import follow, stream_events
from shared.runtime.amqp import connect, declare_exchange, events_exchange_name, stream_name
from shared.runtime.db import make_pool
from shared.vocabulary.envelope import format_sequence
from shared.runtime.eventstore import NO_STREAM, EventStore, unit_of_work
from shared.runtime.relay import Relay
from shared.runtime.signatures import Signer, public_jwks, verify_event
from shared.ops.topology import declare_streams
from tests.conftest import platform_config
from tests.demo import CATALOG, thing
from tests.keys import key_set

pytestmark = pytest.mark.integration

STREAM = stream_name("demo")


def _commit(pool, count):
    ids = []
    for _ in range(count):
        with unit_of_work(pool, EventStore(CATALOG), str(uuid.uuid4())) as uow:
            event = thing(uow, uuid.uuid4().hex[:8], secret="kept inside")
            uow.append(f"thing-{event.id}", NO_STREAM, event)
            ids.append(event.id)
    return ids


def _outbox_empty(url, timeout=60):
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM outbox").fetchone()[0]:
            assert time.monotonic() < deadline, "the relay did not publish the outbox"
            time.sleep(0.1)


def _declare(amqp_uri):
    """The demo service's exchange and stream, declared as shared.ops.topology does."""
    conn = connect(amqp_uri)
    channel = conn.channel()
    declare_exchange(channel, events_exchange_name("demo"))
    declare_streams(conn, channel, ["demo"],
                    lambda service: platform_config(EVENT_STREAM_MAX_AGE="7D"))
    conn.close()


def _start_relay(url, amqp_uri, keys, **options):
    """The demo service's relay, running in a thread; returns (relay, thread)."""
    options = {"sequence_format": platform_config()["EVENT_SEQUENCE_FORMAT"]} | options
    relay = Relay("demo", url, amqp_uri, Signer(keys), batch_size=200, poll_interval=0.1,
                  **options)
    runner = threading.Thread(target=relay.run, daemon=True)
    runner.start()
    return relay, runner


@pytest.fixture
def platform(fresh_database, amqp_uri_for_vhost):
    """The demo service's exchange and stream, its relay running with a key set of its
    own."""
    _declare(amqp_uri_for_vhost)
    keys = key_set("demo")
    relay, runner = _start_relay(fresh_database, amqp_uri_for_vhost, keys)
    pool = make_pool(fresh_database, size=4)
    yield pool, fresh_database, amqp_uri_for_vhost, public_jwks(keys)
    relay.stop()
    runner.join(timeout=10)
    pool.close()


def test_a_subscriber_arriving_after_1000_events_reads_them_all_in_order_then_live(platform):
    pool, url, uri, jwks = platform
    ids = _commit(pool, 1000)
    _outbox_empty(url)

    state, seen, bodies = {}, [], []
    reader = follow(uri, STREAM, state, "first", idle_seconds=20)
    for event, body in reader:
        seen.append(event)
        bodies.append(body)
        if len(seen) == 1000:
            break
    assert [event["id"] for event in seen] == ids  # commit order, no gap, no duplicate
    assert [event["sequence"] for event in seen] == [format_sequence(n) for n in range(1, 1001)]
    assert sorted(event["sequence"] for event in seen) == [event["sequence"] for event in seen]
    assert all("secret" not in event["data"] for event in seen)  # public data only
    for body in bodies[:50] + bodies[-50:]:
        verify_event(body, jwks)

    live = _commit(pool, 1)
    event, _ = next(reader)  # the same subscriber, now following live events
    assert (event["id"], event["sequence"]) == (live[0], "00000000000000001001")
    reader.close()


def test_a_subscriber_that_stops_resumes_from_its_last_offset_and_loses_nothing(platform):
    pool, url, uri, _ = platform
    ids = _commit(pool, 300)
    _outbox_empty(url)
    state, handled = {}, []
    for event, _ in follow(uri, STREAM, state, "first", idle_seconds=20):
        handled.append(event["id"])
        if len(handled) == 120:
            break  # the subscriber stops (its connection closes); state is what it kept
    kept = json.loads(json.dumps(state))
    ids += _commit(pool, 30)  # events happen while it is away
    _outbox_empty(url)
    for event, _ in follow(uri, STREAM, kept, idle_seconds=20):
        handled.append(event["id"])
        if len(handled) == 330:
            break
    assert handled == ids and kept["sequence"] == 330


def test_a_subscriber_can_start_from_a_time(platform):
    pool, url, uri, _ = platform
    _commit(pool, 50)
    _outbox_empty(url)
    time.sleep(1.5)  # a stream finds a time by its chunks: keep the two apart
    since = datetime.now(timezone.utc)
    later = _commit(pool, 5)
    _outbox_empty(url)
    received = []
    for _, body in stream_events(uri, STREAM, since, idle_seconds=20):
        received.append(json.loads(body)["id"])
        if received[-5:] == later:
            break
    assert received == later  # nothing from before that time


def test_a_subscriber_reads_on_without_a_gap_when_the_relay_moves_to_string_sequences(
        fresh_database, amqp_uri_for_vhost):
    """The transition of docs/EVENTS.md, "Contract versions": events numbered by a relay
    still on contract 1 (EVENT_SEQUENCE_FORMAT integer), then by one on contract 2, in
    one stream; the example subscriber reads all of them in order, no gap, each signature
    intact, and resumes between the two kinds from the state it kept."""
    _declare(amqp_uri_for_vhost)
    keys = key_set("demo")
    pool = make_pool(fresh_database, size=4)
    try:
        relay, runner = _start_relay(fresh_database, amqp_uri_for_vhost, keys,
                                     sequence_format="integer")
        ids = _commit(pool, 20)
        _outbox_empty(fresh_database)
        relay.stop()
        runner.join(timeout=10)
        state, handled = {}, []
        for event, _ in follow(amqp_uri_for_vhost, STREAM, state, "first", idle_seconds=20):
            handled.append(event)
            if len(handled) == 20:
                break
        assert [event["sequence"] for event in handled] == list(range(1, 21))  # contract 1
        relay, runner = _start_relay(fresh_database, amqp_uri_for_vhost, keys)
        ids += _commit(pool, 20)
        _outbox_empty(fresh_database)
        relay.stop()
        runner.join(timeout=10)
    finally:
        pool.close()
    kept = json.loads(json.dumps(state))
    for event, body in follow(amqp_uri_for_vhost, STREAM, kept, idle_seconds=20):
        verify_event(body, public_jwks(keys))
        handled.append(event)
        if len(handled) == 40:
            break
    assert [event["id"] for event in handled] == ids and kept["sequence"] == 40
    assert [event["sequence"] for event in handled[20:]] == \
        [format_sequence(n) for n in range(21, 41)]
