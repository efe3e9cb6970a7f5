"""Idempotent consumers, retries and the dead-letter queue on the real broker and
database (non-negotiable 3: a redelivered event has no second effect; a failing
handler retries, then parks in a dead-letter queue — never silently dropped); and,
kept apart from failures, a handler that asks for the same message again later
(``RedeliverLater``, e.g. an email after a 451) gets it when it asked, as often as it
asks, and is never parked for asking."""
import time
import uuid

import psycopg
import pytest

from shared.runtime.amqp import BatchPublisher, connect, events_exchange_name
from shared.runtime.consumer import Delivery, RedeliverLater, on_event
from shared.runtime.db import Database
from shared.ops.deadletters import list_dead_letters, replay, show
from tests.conftest import platform_config
from tests.demo import CATALOG, thing
from tests.markers import wait_until

pytestmark = pytest.mark.integration


class DemoConsumer:
    name = "democonsumer"
    db = Database(CATALOG)
    delivery = Delivery()

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


    @on_event("demo", "ThingHappened", catalog=CATALOG, redelivery=True)
    def patient(self, event):
        """``patient-…``: asks for the event again ``amount`` times, 0.3 s later each
        time, then takes it. ``relapse-…``: asks once, then fails for good. Its own
        table is its idempotency (a claimed event id would make the redelivery look
        like a duplicate)."""
        thing_id, asked = event.data["thing_id"], self.delivery.redeliveries
        if not thing_id.startswith(("patient", "relapse")):
            return
        with self.db.unit_of_work() as uow:
            uow.conn.execute("INSERT INTO tries (thing_id, redeliveries, attempt, at)"
                             " VALUES (%s, %s, %s, clock_timestamp())",
                             (thing_id, asked, self.delivery.attempt))
        if thing_id.startswith("relapse") and asked >= 1:
            raise RuntimeError("broken after a redelivery")
        if asked < event.data["amount"]:
            raise RedeliverLater(0.3)


@pytest.fixture
def database(fresh_database):
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE tries (thing_id text, redeliveries int, attempt int,"
                     " at timestamptz)")
        conn.execute("CREATE TABLE effects (handler text, thing_id text)")
        conn.execute("CREATE TABLE switches (broken boolean)")
        conn.execute("INSERT INTO switches VALUES (false)")
    return fresh_database


@pytest.fixture
def consumer(container_factory, rabbit_config, database):
    config = platform_config(rabbit_config, DATABASE_URL=database, EVENT_RETRY_DELAYS_MS=[50, 100],
                  EVENT_REDELIVERY_DELAYS_MS=[100, 200])
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
    """``python -m shared.ops.topology`` (run by ``make run`` before anything publishes)
    declares each service's exchanges and every @on_event handler's queues; ``make
    dlq`` lists exactly those handlers' DLQs."""
    from shared.runtime.config import SERVICES
    from shared.ops.topology import all_consumer_queues, declare

    amqp_uri = rabbit_config["AMQP_URI"]
    queues = declare(amqp_uri)
    delayed = [name for names in all_consumer_queues() for name in names.delays.values()]
    assert "notification.on_booking_email.delay.30s" in delayed  # redelivery=True handlers
    conn = connect(amqp_uri)
    try:
        channel = conn.channel()
        for service in SERVICES:  # passive: raises if it does not exist
            channel.exchange_declare(events_exchange_name(service), "topic", passive=True)
            channel.exchange_declare(f"{service}.private", "topic", passive=True)
        for queue in queues:
            channel.queue_declare(queue, passive=True)
            channel.queue_declare(f"{queue}.dlq", passive=True)
        for queue in delayed:
            channel.queue_declare(queue, passive=True)
    finally:
        conn.close()
    listed = dict(list_dead_letters(amqp_uri))
    assert {f"{queue}.dlq" for queue in queues} == set(listed)


def tries(database_url, thing_id):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT redeliveries, attempt, at FROM tries WHERE thing_id = %s"
                            " ORDER BY at", (thing_id,)).fetchall()


def test_a_handler_that_asks_for_a_redelivery_gets_it_when_and_as_often_as_it_asks(
        consumer, rabbit_config, database):
    amqp_uri = rabbit_config["AMQP_URI"]
    publish(amqp_uri, thing(CATALOG, "patient", 3).to_json().encode())
    assert wait_for(lambda: len(tries(database, "patient")) == 4)
    seen = tries(database, "patient")
    assert [(asked, attempt) for asked, attempt, _ in seen] == [(0, 1), (1, 1), (2, 1), (3, 1)]
    # 0.3 s asked; the delay queues are 100 and 200 ms: 200 + 100, never before 0.3 s
    # less the shortest delay.
    gaps = [(later - earlier).total_seconds() for (_, _, earlier), (_, _, later)
            in zip(seen, seen[1:])]
    assert all(gap >= 0.2 for gap in gaps), gaps
    # A fifth try would have been asked for before this one, which asks for one more
    # through the same delay queues: once it is back, nothing more came for the first.
    publish(amqp_uri, thing(CATALOG, "patient-marker", 1).to_json().encode())
    wait_until(lambda: len(tries(database, "patient-marker")) == 2, "the marker's second try")
    assert len(tries(database, "patient")) == 4  # it stopped asking: nothing more
    assert dlq_depth(amqp_uri, "democonsumer.patient.dlq") == 0
    later = [f"democonsumer.patient.delay.{ttl}" for ttl in ("100ms", "200ms")]
    assert [dlq_depth(amqp_uri, queue) for queue in later] == [0, 0]  # declared, empty


def test_a_handler_that_fails_after_a_redelivery_still_retries_then_parks(
        consumer, rabbit_config, database):
    amqp_uri = rabbit_config["AMQP_URI"]
    publish(amqp_uri, thing(CATALOG, "relapse", 5).to_json().encode())
    assert wait_for(lambda: dlq_depth(amqp_uri, "democonsumer.patient.dlq") == 1)
    # Asked once (not a failure), then failed: the first try and two retries, counted
    # afresh after the redelivery.
    assert [(asked, attempt) for asked, attempt, _ in tries(database, "relapse")] == [
        (0, 1), (1, 1), (1, 2), (1, 3)]
    parked = show(amqp_uri, "democonsumer.patient")
    assert parked[0]["attempts"] == 3 and "broken after a redelivery" in parked[0]["error"]
