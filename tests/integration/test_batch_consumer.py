"""``@on_events`` on the real broker and database: a batch of events per transaction
and per ack, and still non-negotiable 3 — a redelivered event has no second effect,
whether it comes again in the same batch or in a later one; a failing event is
retried and parked in its DLQ alone, the rest of its batch applied."""
import uuid

import psycopg
import pytest

from shared.runtime.consumer import on_events
from shared.runtime.db import Database
from shared.ops.deadletters import show
from tests.conftest import platform_config
from tests.demo import CATALOG, thing
from tests.integration.test_consumer import dlq_depth, effects, publish, wait_for

pytestmark = pytest.mark.integration


class DemoBatchConsumer:
    name = "demobatch"
    db = Database(CATALOG)

    @on_events("demo", "ThingHappened", catalog=CATALOG, batch=50, max_wait_ms=100)
    def on_things(self, events):
        """``poison-…`` fails every time; every call records its batch's size."""
        with self.db.handling_many(events) as (uow, fresh):
            for event in fresh:
                if event.data["thing_id"].startswith("poison"):
                    raise RuntimeError("this event cannot be applied")
                uow.conn.execute("INSERT INTO effects (handler, thing_id) VALUES"
                                 " ('on_things', %s)", (event.data["thing_id"],))
            uow.conn.execute("INSERT INTO batches (size) VALUES (%s)", (len(events),))


@pytest.fixture
def database(fresh_database):
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE effects (handler text, thing_id text)")
        conn.execute("CREATE TABLE batches (size int)")
    return fresh_database


@pytest.fixture
def consumer(container_factory, rabbit_config, database):
    config = platform_config(rabbit_config, DATABASE_URL=database,
                             EVENT_RETRY_DELAYS_MS=[50, 100])
    container = container_factory(DemoBatchConsumer, config)
    container.start()
    return container


def largest_batch(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT max(size) FROM batches").fetchone()[0]


def test_events_are_applied_in_batches_each_once(consumer, rabbit_config, database):
    amqp_uri = rabbit_config["AMQP_URI"]
    names = [f"thing-{n:03d}" for n in range(120)]
    publish(amqp_uri, *(thing(CATALOG, name).to_json().encode() for name in names))
    assert wait_for(lambda: len(effects(database, "on_things")) == 120)
    assert effects(database, "on_things") == names
    assert largest_batch(database) > 1  # several per transaction


def test_an_event_redelivered_in_its_batch_or_a_later_one_has_one_effect(
        consumer, rabbit_config, database):
    amqp_uri = rabbit_config["AMQP_URI"]
    twice = thing(CATALOG, "twice").to_json().encode()
    others = [thing(CATALOG, f"other-{n}").to_json().encode() for n in range(5)]
    publish(amqp_uri, twice, *others, twice)  # the same event twice in one batch
    assert wait_for(lambda: len(effects(database, "on_things")) == 6)
    publish(amqp_uri, twice, *others)  # and again later, as after a crash before the ack
    publish(amqp_uri, thing(CATALOG, "zz-marker").to_json().encode())
    assert wait_for(lambda: "zz-marker" in effects(database, "on_things"))
    assert effects(database, "on_things") == sorted(
        ["twice", *(f"other-{n}" for n in range(5)), "zz-marker"])
    with psycopg.connect(database) as conn:
        claimed = conn.execute("SELECT count(*) FROM processed_events WHERE consumer ="
                               " 'demobatch.on_things'").fetchone()[0]
    assert claimed == 7


def test_a_failing_event_is_retried_and_parked_alone(consumer, rabbit_config, database):
    amqp_uri = rabbit_config["AMQP_URI"]
    names = [f"good-{n:02d}" for n in range(30)]
    bodies = [thing(CATALOG, name).to_json().encode() for name in names]
    bodies.insert(10, thing(CATALOG, f"poison-{uuid.uuid4().hex[:6]}").to_json().encode())
    publish(amqp_uri, *bodies)
    assert wait_for(lambda: dlq_depth(amqp_uri, "demobatch.on_things.dlq") == 1)
    assert wait_for(lambda: effects(database, "on_things") == names)
    parked = show(amqp_uri, "demobatch.on_things")
    assert len(parked) == 1 and parked[0]["attempts"] == 3  # the first try and two retries
    assert "cannot be applied" in parked[0]["error"]
    # The others were applied once, and nothing is left unacked or waiting.
    publish(amqp_uri, thing(CATALOG, "zz-after").to_json().encode())
    assert wait_for(lambda: "zz-after" in effects(database, "on_things"))
    assert dlq_depth(amqp_uri, "demobatch.on_things") == 0
    assert dlq_depth(amqp_uri, "demobatch.on_things.dlq") == 1


def test_an_unreadable_message_in_a_batch_is_parked_at_once(consumer, rabbit_config,
                                                            database):
    amqp_uri = rabbit_config["AMQP_URI"]
    publish(amqp_uri, thing(CATALOG, "before").to_json().encode(), b'{"not": "an event"}',
            thing(CATALOG, "after").to_json().encode())
    assert wait_for(lambda: effects(database, "on_things") == ["after", "before"])
    assert wait_for(lambda: dlq_depth(amqp_uri, "demobatch.on_things.dlq") == 1)
    assert show(amqp_uri, "demobatch.on_things")[0]["error"].startswith("invalid message")
