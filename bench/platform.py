"""Platform figures: event-store appends next to pgbench inserting the same rows, and
the relay next to pika publishing with confirms awaited per batch of the same size."""
import threading
import time
import uuid

import pika
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from shared.runtime.amqp import connect
from shared.runtime.config import service_config
from shared.runtime.db import make_pool
from shared.runtime.eventstore import NO_STREAM, EventStore, unit_of_work
from shared.runtime.relay import Relay
from shared.runtime.signatures import Signer, new_key
from tests.demo import CATALOG, thing

from .common import (AMQP_URI, SETTINGS, comparison, drop_database, fresh_database, in_threads,
                     measure, pgbench, percentile)

UNIQUE = {"stream_id": "'raw-' || gen_random_uuid()", "event_id": "gen_random_uuid()",
          "message_id": "gen_random_uuid()"}


def _copy_table(conn, table):
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"raw_{table}")))
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
        sql.Identifier(f"raw_{table}"), sql.Identifier(table)))


def _insert_like(conn, table):
    """``INSERT INTO raw_<table>`` of the row our append wrote last to ``table``: every
    column without a default gets that row's value (the ids made unique), the others
    their default — so the baseline writes the same rows, whatever columns the store
    has when this runs."""
    columns = [name for name, in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = %s AND column_default IS NULL AND is_identity = 'NO'"
        " AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]
    row = conn.execute(sql.SQL("SELECT {} FROM {} LIMIT 1").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))).fetchone()
    if row is None:
        return None
    values = [sql.SQL(UNIQUE[name]) if name in UNIQUE else
              sql.Literal(Jsonb(value) if isinstance(value, (dict, list)) else value)
              for name, value in zip(columns, row)]
    return sql.SQL("INSERT INTO {} ({}) VALUES ({});").format(
        sql.Identifier(f"raw_{table}"), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(values)).as_string(conn)


def appends():
    """One event per transaction (a command's typical shape: the event row and its
    outbox row), 1/8/32 writers: the event store's ``unit_of_work`` + append in Python
    threads next to pgbench running the same INSERTs (BEGIN; events; outbox; COMMIT)
    with as many clients. A psycopg client doing the same INSERTs is measured too: it
    shows what the Python client alone costs."""
    url = fresh_database("asan_bench_store")
    store = EventStore(CATALOG)
    correlation = str(uuid.uuid4())
    levels = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("events", "outbox"):
                _copy_table(conn, table)
        script = None
        for clients in SETTINGS.clients:
            pool = make_pool(url, size=clients)
            try:
                def append(_thread, _i):
                    with unit_of_work(pool, store, correlation) as uow:
                        uow.append(f"thing-{uuid.uuid4()}", NO_STREAM,
                                   thing(uow, str(uuid.uuid4()), 1))

                ours = in_threads(clients, SETTINGS.seconds, append)
                if script is None:
                    with psycopg.connect(url) as conn:
                        inserts = [_insert_like(conn, table) for table in ("events", "outbox")]
                    script = "BEGIN;\n" + "\n".join(i for i in inserts if i) + "\nCOMMIT;\n"

                def raw_insert(_thread, _i):
                    with pool.connection() as conn:
                        for statement in script.splitlines()[1:-1]:
                            conn.execute(statement)

                raw = in_threads(clients, SETTINGS.seconds, raw_insert)
            finally:
                pool.close()
            baseline = pgbench(url, script, clients, SETTINGS.seconds)
            levels.append({"clients": clients, "ours": ours, "baseline": baseline,
                           "extra": {"psycopg threads, same INSERTs": raw}})
    finally:
        drop_database("asan_bench_store")
    return [comparison(
        "appends", "Event-store appends, one event per transaction", "appends/s",
        "shared.runtime.eventstore: unit_of_work + append of one public event (its outbox row "
        "too), "
        "one transaction each, N Python threads, pool of N connections",
        "pgbench -c N: BEGIN; INSERT the same event row; INSERT the same outbox row; "
        "COMMIT (copies of both tables, same indexes)",
        levels, target={"ratio": 0.8, "clients": [8, 32]},
        bounds="the baseline is PostgreSQL's commit (WAL flush, fsync on) of the same rows; "
               "the 'psycopg threads' row is the same INSERTs from Python: the client's own "
               "cost")]


# ------------------------------------------------------------------------ relay
def _fill_outbox(url, exchange, count):
    body = thing(CATALOG, "x", 1).to_json().encode()
    with psycopg.connect(url) as db:
        with db.cursor() as cur:
            with cur.copy("COPY outbox (message_id, exchange, routing_key, body) FROM STDIN") \
                    as copy:
                for _ in range(count):
                    copy.write_row((uuid.uuid4(), exchange, "ThingHappened", body))
        db.commit()
    return body


def _outbox_left(url):
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute("SELECT count(*) FROM outbox").fetchone()[0]


def _relay_drain(url, exchange, count):
    """The relay's own loop (``Relay.run``, whatever it pipelines), connected and idle,
    then ``count`` rows committed at once: seconds from that commit until the outbox is
    empty (its start-up is not timed; waking up is, at most its poll interval)."""
    signer = Signer({"keys": [new_key("bench")]})
    relay = Relay("bench", url, AMQP_URI, signer, batch_size=BATCH, poll_interval=0.05,
                  sequence_format=service_config("booking")["EVENT_SEQUENCE_FORMAT"])
    runner = threading.Thread(target=relay.run, daemon=True)
    runner.start()
    time.sleep(2)  # connected, leading, waiting for work
    body = _fill_outbox(url, exchange, count)
    started = time.perf_counter()
    deadline = time.monotonic() + 300
    with psycopg.connect(url, autocommit=True) as db:
        while db.execute("SELECT count(*) FROM outbox").fetchone()[0]:
            if time.monotonic() > deadline or not runner.is_alive():
                raise TimeoutError("the relay did not drain the outbox")
            time.sleep(0.01)
    seconds = time.perf_counter() - started
    relay.stop()
    runner.join(timeout=30)
    return body, measure(count, seconds, [])


def _pika_batched(exchange, body, count, batch):
    """pika (SelectConnection) publishing ``count`` persistent messages in batches of
    ``batch``, each batch's confirms awaited before the next; latencies are batches'."""
    state = {"sent": 0, "outstanding": 0, "upto": 0, "nacked": 0, "batches": []}
    properties = pika.BasicProperties(delivery_mode=2, content_type="application/cloudevents+json")

    def publish_batch():
        n = min(batch, count - state["sent"])
        if n == 0:
            connection.close()
            return
        state["outstanding"], state["t0"] = n, time.perf_counter()
        for _ in range(n):
            state["channel"].basic_publish(exchange, "ThingHappened", body, properties)
        state["sent"] += n

    def on_confirm(frame):
        method = frame.method
        tag = method.delivery_tag
        acked = tag - state["upto"] if method.multiple else 1
        state["upto"] = max(state["upto"], tag)
        if isinstance(method, pika.spec.Basic.Nack):
            state["nacked"] += acked
        state["outstanding"] -= acked
        if state["outstanding"] <= 0:
            state["batches"].append((time.perf_counter() - state["t0"]) * 1000)
            publish_batch()

    def on_channel(channel):
        state["channel"] = channel
        channel.confirm_delivery(on_confirm)
        state["started"] = time.perf_counter()
        publish_batch()

    connection = pika.SelectConnection(
        pika.URLParameters(AMQP_URI),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda conn, error: conn.ioloop.stop(),
        on_close_callback=lambda conn, reason: conn.ioloop.stop())
    connection.ioloop.start()
    seconds = time.perf_counter() - state["started"]
    return measure(state["sent"] - state["nacked"], seconds, state["batches"],
                   errors=state["nacked"], latency_of="a batch (publish + its confirms)")


BATCH = 500


def relay():
    """Drain an outbox of ``count`` messages through the relay to a bound durable queue,
    next to pika publishing the same bodies in batches of the same size."""
    count = 5000 if SETTINGS.quick else 40000
    url = fresh_database("asan_bench_relay")
    exchange, queue = "bench.events", f"bench-{uuid.uuid4().hex[:6]}"
    conn = connect(AMQP_URI)
    channel = conn.channel()
    channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, exchange, "#")
    try:
        body, ours = _relay_drain(url, exchange, count)
        channel.queue_purge(queue)
        baseline = _pika_batched(exchange, body, count, BATCH)
        channel.queue_purge(queue)
        signing_ms = _signing_ms(body)
    finally:
        channel.queue_delete(queue)
        conn.close()
        drop_database("asan_bench_relay")
    return [comparison(
        "relay", f"Relay: outbox → RabbitMQ ({count:,} persistent messages, batches of "
                 f"{BATCH})", "messages/s",
        "shared.runtime.relay.Relay.run draining a full outbox: fetch, number and sign, publish, "
        "await confirms, delete the rows (one relay, as in production)",
        f"pika SelectConnection: the same bodies, persistent, {BATCH} published then their "
        "confirms awaited, then the next batch",
        [{"clients": 1, "ours": ours, "baseline": baseline}], target={"ratio": 0.8},
        bounds="one publisher per service by design (the relay lock): no client scaling; "
               "latency: the relay drains a backlog, so only the baseline's batch round "
               f"trip is timed; signing one event (Ed25519 JWS, joserfc) takes "
               f"{signing_ms:.3f} ms of the relay's {1000 / ours['rate']:.3f} ms a message "
               "(measured in this run, 2,000 signatures)")]


def _signing_ms(body):
    """CPU ms the relay spends signing one event like ``body`` (joserfc, Ed25519)."""
    signer = Signer({"keys": [new_key("bench")]})
    unsigned = body[:-1] + b',"sequence":"00000000000000000001"}'
    started = time.process_time()
    for _ in range(2000):
        signer.sign_event(unsigned)
    return (time.process_time() - started) / 2000 * 1000


__all__ = ["appends", "relay", "percentile"]
