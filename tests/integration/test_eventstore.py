"""The event store on the real PostgreSQL (issue: platform foundation; D-1)."""
import random
import threading
import time
import uuid

import psycopg
import pytest
from marshmallow import Schema, fields

from shared.vocabulary.catalog import EventCatalog, InvalidEventData
from shared.runtime.db import make_pool
from shared.runtime.eventstore import (ANY_VERSION, NO_STREAM, START, ConcurrencyError, EventStore,
                                       unit_of_work)
from tests.demo import CATALOG, thing

pytestmark = pytest.mark.integration


@pytest.fixture
def store():
    return EventStore(CATALOG)


@pytest.fixture
def pool(fresh_database):
    pool = make_pool(fresh_database, size=12)
    yield pool
    pool.close()


def corr():
    return str(uuid.uuid4())


def test_append_then_read_stream(pool, store):
    with unit_of_work(pool, store, corr()) as uow:
        uow.append("thing-1", NO_STREAM, thing(uow, "1", 5), thing(uow, "1", 7))
    with pool.connection() as conn:
        events = store.read_stream(conn, "thing-1")
    assert [(e.version, e.data["amount"]) for e in events] == [(1, 5), (2, 7)]
    assert events[0].global_position < events[1].global_position


def test_two_writers_race_on_one_version_exactly_one_wins(pool, store):
    with unit_of_work(pool, store, corr()) as uow:
        uow.append("thing-r", NO_STREAM, thing(uow, "r"))
    barrier = threading.Barrier(2)
    outcomes = []

    def writer(amount):
        try:
            with unit_of_work(pool, store, corr()) as uow:
                uow.conn.execute("SELECT 1")
                barrier.wait(timeout=10)  # both read version 1 before either appends
                uow.append("thing-r", 1, thing(uow, "r", amount))
            outcomes.append("won")
        except ConcurrencyError:
            outcomes.append("concurrency error")

    threads = [threading.Thread(target=writer, args=(n,)) for n in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["concurrency error", "won"]
    with pool.connection() as conn:
        assert [e.version for e in store.read_stream(conn, "thing-r")] == [1, 2]


def test_appending_an_event_already_stored_is_a_no_op(pool, store):
    with unit_of_work(pool, store, corr()) as uow:
        event = thing(uow, "d", 3)
        uow.append("thing-d", NO_STREAM, event)
    with unit_of_work(pool, store, corr()) as uow:
        uow.append("thing-d", NO_STREAM, event)  # a retried command: same event id
    with pool.connection() as conn:
        assert len(store.read_stream(conn, "thing-d")) == 1
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_invalid_event_data_is_refused_and_nothing_is_written(pool, store):
    with pytest.raises(InvalidEventData):
        with unit_of_work(pool, store, corr()) as uow:
            uow.conn.execute("CREATE TABLE side_effect (x int)")
            uow.append("thing-x", NO_STREAM, uow.store.catalog.new(
                "ThingHappened", "thing-x", {"thing_id": "x", "amount": 1}, corr())
                .with_data({"thing_id": "x", "amount": "many"}))
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('side_effect')").fetchone()[0] is None


def test_outbox_holds_only_the_public_form(pool, store):
    with unit_of_work(pool, store, corr()) as uow:
        uow.append("thing-p", NO_STREAM, thing(uow, "p", 1, secret="s3cr3t-code"))
        uow.emit("thing-p", 1, "ThingNoted", {"thing_id": "p", "amount": 2})
    with pool.connection() as conn:
        rows = conn.execute("SELECT routing_key, body FROM outbox").fetchall()
        stored = conn.execute("SELECT data FROM events WHERE event_type = 'ThingHappened'")\
            .fetchone()[0]
    assert [row[0] for row in rows] == ["ThingHappened"]  # the private type is not queued
    assert b"s3cr3t-code" not in bytes(rows[0][1])
    assert stored["secret"] == "s3cr3t-code"  # kept in the service's own store


@pytest.fixture
def big_pool(fresh_database):
    pool = make_pool(fresh_database, size=34)
    yield pool
    pool.close()


def test_32_writers_committing_out_of_order_with_rollbacks_a_follower_misses_nothing(
        big_pool, store):
    """Issue 15: no table lock any more. 32 writers take positions and commit late
    (random delays), a fifth of them roll back, several append to shared streams (so
    versions race); a follower reading "after my last cursor" below the horizon sees
    every committed event exactly once, each stream in version order, and the
    relay's order (the outbox's) is the same."""
    pool = big_pool
    writers, per_writer = 32, 12
    done = threading.Event()
    seen = []

    def follower():
        cursor = START
        with psycopg.connect(pool.conninfo, autocommit=True) as conn:
            while True:
                finished = done.is_set()
                batch = store.read_all(conn, after=cursor, limit=40)
                for event in batch:
                    seen.append(event)
                    cursor = event.cursor
                if finished and not batch:
                    return
                time.sleep(random.uniform(0, 0.004))

    def writer(n):
        for i in range(per_writer):
            stream = f"shared-{i % 3}" if n % 4 == 0 else f"thing-{n}-{i}"
            try:
                with unit_of_work(pool, store, corr()) as uow:
                    if random.random() < 0.3:  # a first write before the append: an
                        uow.conn.execute("SELECT pg_current_xact_id()")  # early xid
                    time.sleep(random.uniform(0, 0.005))
                    uow.append(stream, ANY_VERSION, thing(uow, f"{n}-{i}"))
                    uow.flush()  # positions taken now…
                    time.sleep(random.uniform(0, 0.01))  # …commit a little later
                    if random.random() < 0.2:
                        raise RuntimeError("rolled back")
            except (RuntimeError, ConcurrencyError):
                pass

    reader = threading.Thread(target=follower)
    reader.start()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    done.set()
    reader.join(timeout=60)

    with pool.connection() as conn:
        committed = {str(row[0]) for row in conn.execute("SELECT event_id FROM events")}
        outbox = [str(row[0]) for row in conn.execute(
            "SELECT message_id FROM outbox ORDER BY tx, id")]
    ids = [event.envelope.id for event in seen]
    assert len(committed) > writers * per_writer // 2
    assert len(ids) == len(set(ids)) and set(ids) == committed  # all, each once
    assert outbox == ids  # the relay publishes in the same order
    versions = {}
    for event in seen:  # every stream in version order
        assert event.version == versions.get(event.stream_id, 0) + 1, event.stream_id
        versions[event.stream_id] = event.version


def test_a_naive_position_follower_skips_events_the_horizon_reader_does_not(pool, store):
    """The control for the test above: bigserial positions alone are not enough. A
    transaction that takes a position and commits late is invisible to a follower
    that has already moved past a later position; the horizon reader waits for it."""
    early = psycopg.connect(pool.conninfo)
    with psycopg.connect(pool.conninfo, autocommit=True) as other:
        with early.transaction():
            store.append(early, "a", NO_STREAM, [thing(CATALOG, "a")])
            with unit_of_work(pool, store, corr()) as uow:
                uow.append("b", NO_STREAM, thing(uow, "b"))
            late_position = other.execute("SELECT max(global_position) FROM events").fetchone()[0]
            naive = [row[0] for row in other.execute(
                "SELECT global_position FROM events WHERE global_position > 0")]
            horizon = store.read_all(other, START)
        naive_after = [row[0] for row in other.execute(
            "SELECT global_position FROM events WHERE global_position > %s", (late_position,))]
        horizon_after = [event.stream_id for event in store.read_all(other, START)]
    early.close()
    assert naive == [late_position]  # the earlier position was not visible yet…
    assert naive_after == []  # …and a follower past it never sees it: skipped
    assert horizon == []  # the horizon reader took nothing while "a" was in flight…
    assert sorted(horizon_after) == ["a", "b"]  # …and then both


def test_a_v1_event_stored_before_a_breaking_change_is_read_as_v2(pool, store):
    """Issue 14 §3: events stay stored as written; the store reads them through the
    type's upcaster at the version the code knows (shared.vocabulary.catalog)."""
    with unit_of_work(pool, store, corr()) as uow:
        uow.append("thing-v1", NO_STREAM, thing(uow, "v1", 5))

    class ThingHappenedV2(Schema):
        thing_id = fields.String(required=True)
        amount_qapik = fields.Integer(required=True)  # renamed, other unit: breaking

    newer = EventCatalog("demo")
    newer.register("ThingHappened", ThingHappenedV2, version=2, upcasters={
        1: lambda data: {"thing_id": data["thing_id"], "amount_qapik": data["amount"] * 100}})
    with pool.connection() as conn:
        [event] = EventStore(newer).read_stream(conn, "thing-v1")
        stored = conn.execute("SELECT schema_version, data FROM events"
                              " WHERE stream_id = 'thing-v1'").fetchone()
    assert (event.envelope.schemaversion, event.data) == (2, {"thing_id": "v1",
                                                             "amount_qapik": 500})
    assert stored == (1, {"thing_id": "v1", "amount": 5, "secret": None})


def test_a_stream_reads_in_version_order_even_when_the_later_version_has_the_older_xid(
        pool, store):
    """A transaction takes its id at its first write, which may come before it read
    the stream: here version 2 is written by a transaction older than version 1's.
    Its events are ordered after their stream's previous version all the same."""
    with psycopg.connect(pool.conninfo) as older:
        older.execute("SELECT pg_current_xact_id()")  # its id, before the other's
        with unit_of_work(pool, store, corr()) as uow:
            uow.append("shared", NO_STREAM, thing(uow, "first"))
        store.append(older, "shared", 1, [thing(CATALOG, "second")])
        older.commit()
    with pool.connection() as conn:
        conn.autocommit = True
        events = store.read_all(conn, START)
    assert [(e.stream_id, e.version) for e in events] == [("shared", 1), ("shared", 2)]


def _xids_across_a_power_of_ten(conn):
    """Two committed-looking transaction ids below the horizon on either side of a
    power of ten (e.g. 99998 and 100001): their texts sort the other way round."""
    horizon = int(conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                  .fetchone()[0])
    power = 10 ** (len(str(horizon - 10)) - 1)
    assert power >= 1000, horizon
    return power - 2, power + 1


def test_events_read_in_numeric_transaction_order_across_a_power_of_ten(pool, store):
    """The reading order is the xid8's, not its text's ("100001" < "99998"): a reader
    going one event at a time gets every event once, in order. (Found by the rebuild
    of issue 16: ordering by the text cast skipped and repeated events.)"""
    with pool.connection() as conn:
        conn.autocommit = True
        low, high = _xids_across_a_power_of_ten(conn)
        with conn.transaction():
            for name, tx in (("b", high), ("a", low)):
                store.append(conn, f"thing-{name}", NO_STREAM, [thing(CATALOG, name)])
                conn.execute("UPDATE events SET tx = %s::text::xid8 WHERE stream_id = %s",
                             (tx, f"thing-{name}"))
        seen, after = [], START
        while batch := store.read_all(conn, after=after, limit=1):
            seen += [(e.stream_id, e.tx) for e in batch]
            after = batch[-1].cursor
        assert seen == [("thing-a", low), ("thing-b", high)]
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            visible = store.read_visible(conn, limit=10)
        assert [e.tx for e in visible] == [low, high]


def test_the_relay_fetches_in_numeric_transaction_order_across_a_power_of_ten(pool, store):
    from shared.runtime.relay import Relay
    with pool.connection() as conn:
        conn.autocommit = True
        low, high = _xids_across_a_power_of_ten(conn)
        for name in ("b", "a"):
            with conn.transaction():
                store.append(conn, f"thing-{name}", NO_STREAM, [thing(CATALOG, name)])
        conn.execute("UPDATE outbox SET tx = %s::text::xid8"
                     " WHERE id = (SELECT min(id) FROM outbox)",
                     (high,))
        conn.execute("UPDATE outbox SET tx = %s::text::xid8"
                     " WHERE id = (SELECT max(id) FROM outbox)",
                     (low,))
        relay = Relay.__new__(Relay)
        relay.batch_size = 1
        conn.autocommit = False
        first = relay._fetch(conn, (0, 0))
        second = relay._fetch(conn, (int(first[-1][-1]), first[-1][0]))
        assert [int(r[-1]) for r in first + second] == [low, high]
