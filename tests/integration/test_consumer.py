"""Idempotent consumers, retries and the dead-letter queue on the real broker and
database (non-negotiable 3: a redelivered event has no second effect; a failing
handler retries, then parks in a dead-letter queue — never silently dropped)."""
import time
import uuid

import psycopg
import pytest

from shared.amqp import BatchPublisher, connect, events_exchange_name
from shared.consumer import on_event
from shared.db import Database
from shared.deadletters import list_dead_letters, replay, show
from tests.demo import CATALOG, thing

pytestmark = pytest.mark.integration


class DemoConsumer:
    name = "democonsumer"
    db = Database(CATALOG)

    @on_event("demo", "ThingHappened", catalog=CATALOG)
    def on_thing(self, event):
        with self.db.handling(event) as uow:
            uow.conn.execute("INSERT INTO effects (handler, thing_id) VALUES ('on_thing', %s)",
                             (event.data["thing_id"],))

    @on_event("demo", "ThingHappened", catalog=CATALOG)
    def flaky(self, event):
        with self.db.handling(event) as uow:
            if uow.conn.execute("SELECT broken FROM switches").fetchone()[0]:
                raise RuntimeError("the downstream system is down")
            uow.conn.execute("INSERT INTO effects (handler, thing_id) VALUES ('flaky', %s)",
                             (event.data["thing_id"],))


@pytest.fixture
def database(fresh_database):
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE effects (handler text, thing_id text)")
        conn.execute("CREATE TABLE switches (broken boolean)")
        conn.execute("INSERT INTO switches VALUES (false)")
    return fresh_database


@pytest.fixture
def consumer(container_factory, rabbit_config, database):
    config = dict(rabbit_config, DATABASE_URL=database, EVENT_RETRY_DELAYS_MS=[50, 100])
    container = container_factory(DemoConsumer, config)
    container.start()
    return container


def publish(amqp_uri, *bodies):
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch(
            (events_exchange_name("demo"), "ThingHappened", body,
             {"content_type": "application/cloudevents+json", "message_id": str(uuid.uuid4())})
            for body in bodies)
    finally:
        publisher.close()


def effects(database_url, handler):
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT thing_id FROM effects WHERE handler = %s ORDER BY thing_id", (handler,))]


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def dlq_depth(amqp_uri, queue):
    conn = connect(amqp_uri)
    try:
        return conn.channel().queue_declare(queue, passive=True)[1]
    finally:
        conn.close()


def test_a_redelivered_event_has_one_effect(consumer, rabbit_config, database):
    event = thing(CATALOG, "once", 1)
    body = event.to_json().encode()
    publish(rabbit_config["AMQP_URI"], body, body, body)  # delivered three times
    marker = thing(CATALOG, "zz-marker", 1).to_json().encode()
    publish(rabbit_config["AMQP_URI"], marker)
    assert wait_for(lambda: "zz-marker" in effects(database, "on_thing"))
    assert effects(database, "on_thing") == ["once", "zz-marker"]


def test_a_failing_handler_retries_then_parks_and_replay_works(consumer, rabbit_config,
                                                               database):
    amqp_uri = rabbit_config["AMQP_URI"]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE switches SET broken = true")
    publish(amqp_uri, thing(CATALOG, "parked", 1).to_json().encode())

    assert wait_for(lambda: dlq_depth(amqp_uri, "democonsumer.flaky.dlq") == 1)
    parked = show(amqp_uri, "democonsumer.flaky")
    assert parked[0]["attempts"] == 3  # the first try and two retries
    assert "downstream system is down" in parked[0]["error"]
    assert effects(database, "flaky") == []
    assert effects(database, "on_thing") == ["parked"]  # the other handler is unaffected

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE switches SET broken = false")  # the operator fixed the cause
    assert replay(amqp_uri, "democonsumer.flaky.dlq") == 1
    assert wait_for(lambda: effects(database, "flaky") == ["parked"])
    assert dlq_depth(amqp_uri, "democonsumer.flaky.dlq") == 0


def test_a_message_that_is_not_a_valid_event_is_parked_at_once(consumer, rabbit_config,
                                                                database):
    amqp_uri = rabbit_config["AMQP_URI"]
    publish(amqp_uri, b'{"not": "a cloudevent"}')
    bad_data = thing(CATALOG, "bad", 1).to_dict()
    bad_data["data"]["amount"] = "lots"
    import json

    publish(amqp_uri, json.dumps(bad_data).encode())
    assert wait_for(lambda: dlq_depth(amqp_uri, "democonsumer.on_thing.dlq") == 2)
    errors = [m["error"] for m in show(amqp_uri, "democonsumer.on_thing")]
    assert all(error.startswith("invalid message") for error in errors)
    assert effects(database, "on_thing") == []


def test_topology_declares_every_service_exchange_and_consumer_queue(rabbit_config):
    """``python -m shared.topology`` (run by ``make run`` before anything publishes)
    declares each service's exchanges and every @on_event handler's queues; ``make
    dlq`` lists exactly those handlers' DLQs."""
    from shared.config import SERVICES
    from shared.topology import declare

    amqp_uri = rabbit_config["AMQP_URI"]
    queues = declare(amqp_uri)
    conn = connect(amqp_uri)
    try:
        channel = conn.channel()
        for service in SERVICES:  # passive: raises if it does not exist
            channel.exchange_declare(events_exchange_name(service), "topic", passive=True)
            channel.exchange_declare(f"{service}.private", "topic", passive=True)
        for queue in queues:
            channel.queue_declare(queue, passive=True)
            channel.queue_declare(f"{queue}.dlq", passive=True)
    finally:
        conn.close()
    listed = dict(list_dead_letters(amqp_uri))
    assert {f"{queue}.dlq" for queue in queues} == set(listed)
