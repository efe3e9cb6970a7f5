"""Platform figures: event-store appends next to raw inserts, relay publishing next
to raw pika publishing with confirms."""
import os
import threading
import time
import uuid

import pika
import psycopg

from shared.amqp import connect
from shared.db import apply_migrations, make_pool
from shared.eventstore import NO_STREAM, EventStore, unit_of_work
from shared.relay import Relay
from shared.signing import Signer, new_key
from tests.demo import CATALOG, thing

ADMIN_URL = os.environ.get("ASAN_PG_ADMIN_URL", "postgresql://asan:asan@127.0.0.1:55432/postgres")
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:55672/")


def fresh_database(name):
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    apply_migrations(url)
    return url


def drop_database(name):
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _in_threads(threads, count, work):
    """Run ``work(i)`` for i in range(count) over ``threads`` threads; seconds taken."""
    counter = iter(range(count))
    lock = threading.Lock()

    def loop():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            work(i)

    started = time.perf_counter()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def appends(count=3000, threads=8):
    """One event per transaction (a command's typical shape), 8 writers at once."""
    url = fresh_database("asan_bench_store")
    pool = make_pool(url, size=threads)
    store = EventStore(CATALOG)
    correlation = str(uuid.uuid4())
    try:
        def append(i):
            with unit_of_work(pool, store, correlation) as uow:
                uow.append(f"thing-{i}", NO_STREAM, thing(uow, str(i), i))

        store_seconds = _in_threads(threads, count, append)

        with pool.connection() as conn:
            conn.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
            conn.commit()

        def raw_insert(i):
            event = thing(CATALOG, str(i), i, correlation_id=correlation)
            with pool.connection() as conn:
                conn.execute(
                    "INSERT INTO raw_events (stream_id, version, event_id, event_type,"
                    " schema_version, data, occurred_at, correlation_id)"
                    " VALUES (%s, 1, %s, %s, 1, %s, %s, %s)",
                    (f"thing-{i}", event.id, event.type,
                     psycopg.types.json.Jsonb(event.data), event.time, correlation))

        raw_seconds = _in_threads(threads, count, raw_insert)
    finally:
        pool.close()
        drop_database("asan_bench_store")
    return {
        "what": f"event-store appends ({count}, one event per transaction, {threads} writers)",
        "ours": count / store_seconds, "baseline": count / raw_seconds,
        "baseline_what": "raw psycopg INSERT of the same rows, same concurrency",
        "unit": "appends/s",
    }


def relay(count=20000, batch=500):
    """Drain an outbox of ``count`` messages through the relay, to a bound queue."""
    url = fresh_database("asan_bench_relay")
    exchange, queue = "bench.events", f"bench-{uuid.uuid4().hex[:6]}"
    conn = connect(AMQP_URI)
    channel = conn.channel()
    channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, exchange, "#")
    body = thing(CATALOG, "x", 1).to_json().encode()
    try:
        with psycopg.connect(url) as db:
            with db.cursor() as cur:
                with cur.copy("COPY outbox (message_id, exchange, routing_key, body) FROM STDIN")\
                        as copy:
                    for _ in range(count):
                        copy.write_row((uuid.uuid4(), exchange, "ThingHappened", body))
            db.commit()
            signer = Signer({"keys": [new_key("bench")]})
            relay = Relay("bench", url, AMQP_URI, signer, batch_size=batch)
            started = time.perf_counter()
            sent = 0
            while sent < count:
                sent += relay.relay_once(db)
            relay_seconds = time.perf_counter() - started
            relay.publisher.close()
        channel.queue_purge(queue)

        params = pika.URLParameters(AMQP_URI)
        with pika.BlockingConnection(params) as raw:
            raw_channel = raw.channel()
            raw_channel.confirm_delivery()
            properties = pika.BasicProperties(delivery_mode=2,
                                              content_type="application/cloudevents+json")
            raw_count = min(count, 5000)
            started = time.perf_counter()
            for _ in range(raw_count):
                raw_channel.basic_publish(exchange, "ThingHappened", body, properties)
            raw_seconds = time.perf_counter() - started
        channel.queue_purge(queue)
    finally:
        channel.queue_delete(queue)
        conn.close()
        drop_database("asan_bench_relay")
    return {
        "what": f"relay: outbox → RabbitMQ ({count} persistent messages, confirmed, "
                f"batches of {batch}, rows deleted after confirm)",
        "ours": count / relay_seconds, "baseline": raw_count / raw_seconds,
        "baseline_what": "raw pika BlockingConnection publish with confirms "
                         f"({raw_count} messages, one confirm wait each)",
        "unit": "messages/s",
    }
