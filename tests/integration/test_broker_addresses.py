"""Issue 13 §2: services, relays and our tools take several broker addresses
(``AMQP_URI`` = ``amqp://a/;amqp://b/``, kombu's failover syntax) and use one that
answers — on the real broker, with the first address one where nothing listens. (A
node dying under load is tests/integration/test_rabbitmq_cluster.py.) And a message
that keeps coming back unacked is parked by the broker (the queues' delivery limit)."""
import time
import uuid

import amqp
import psycopg
import pytest
from nameko.testing.services import dummy, entrypoint_hook

from shared.runtime.amqp import (BatchPublisher, broker_urls, connect, events_exchange_name,
                                 requeue_exchange_name)
from shared.runtime.consumer import QueueNames, on_event
from shared.ops.deadletters import show
from shared.runtime.relay import Relay
from tests.keys import signer_for
from shared.runtime.rpc import RpcProxy, rpc
from tests.conftest import platform_config, unused_port
from tests.demo import CATALOG, thing
from tests.integration.test_relay import commit_events

pytestmark = pytest.mark.integration

SEEN = []


class Pinger:
    name = "pinger"

    @rpc
    def ping(self, number):
        return number + 1

    @on_event("demo", "ThingHappened", catalog=CATALOG)
    def on_thing(self, event):
        SEEN.append(event.data["thing_id"])


class Caller:
    name = "caller"
    pinger = RpcProxy("pinger")

    @dummy
    def call(self, number):
        return self.pinger.ping(number)


@pytest.fixture
def addresses(rabbit_config):
    """A dead address first, then the test's vhost on the real broker."""
    return f"amqp://guest:guest@127.0.0.1:{unused_port()}/;{rabbit_config['AMQP_URI']}"


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_our_connections_take_the_first_address_that_answers(addresses, rabbit_config):
    assert broker_urls(" amqp://a/ ;amqp://b/;") == ["amqp://a/", "amqp://b/"]
    conn = connect(addresses)
    try:
        assert conn.broker_url == rabbit_config["AMQP_URI"]
    finally:
        conn.close()
    with pytest.raises(OSError):
        connect(f"amqp://guest:guest@127.0.0.1:{unused_port()}/")


def test_nameko_consumers_rpc_and_publishers_take_the_address_that_answers(
        container_factory, addresses):
    """nameko hands the URI to kombu, which fails over: the event consumer, the RPC
    entrypoint, the caller's reply queue and the publishers all reach the broker."""
    SEEN.clear()
    pinger = container_factory(Pinger, platform_config(AMQP_URI=addresses))
    caller = container_factory(Caller, platform_config(AMQP_URI=addresses))
    pinger.start()
    caller.start()
    with entrypoint_hook(caller, "call") as call:
        assert call(41) == 42
    publisher = BatchPublisher(addresses)
    try:
        publisher.publish_batch([(events_exchange_name("demo"), "ThingHappened",
                                  thing(CATALOG, "via-failover", 1).to_json().encode(),
                                  {"content_type": "application/cloudevents+json",
                                   "message_id": str(uuid.uuid4())})])
    finally:
        publisher.close()
    assert wait_for(lambda: SEEN == ["via-failover"])


def test_the_relay_publishes_through_the_address_that_answers(addresses, fresh_database,
                                                               rabbit_config):
    conn = connect(rabbit_config["AMQP_URI"])
    channel = conn.channel()
    channel.exchange_declare(events_exchange_name("demo"), "topic", durable=True,
                             auto_delete=False)
    queue = f"subscriber-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, events_exchange_name("demo"), "#")
    ids = commit_events(fresh_database, 5)
    relay = Relay("demo", fresh_database, addresses, signer_for("demo"), poll_interval=0.1,
                  sequence_format=platform_config()["EVENT_SEQUENCE_FORMAT"])
    try:
        with psycopg.connect(fresh_database) as db:
            assert relay.relay_once(db) == 5
    finally:
        relay.publisher.close()
    received = [channel.basic_get(queue, no_ack=True) for _ in ids]
    conn.close()
    assert [m.properties["message_id"] for m in received] == ids


def test_a_batch_that_failed_on_a_node_goes_to_another_one_first(rabbit_config,
                                                                 rabbit_manager):
    """The connection is cut by the broker (as when its node dies): the batch raises
    (the relay keeps its rows and sends them again), and the next batch connects to
    the other address first."""
    real = rabbit_config["AMQP_URI"]
    other = real.replace("127.0.0.1", "localhost")  # the same broker by another name
    publisher = BatchPublisher(f"{real};{other}")
    batch = [("", "nowhere", b"{}", {"message_id": "m"})]
    try:
        publisher.publish_batch(batch)
        assert publisher.conn.broker_url == real
        def ours():  # the management API lists a connection within a few seconds
            return [c["name"] for c in rabbit_manager.get_connections()
                    if c["vhost"] == rabbit_config["vhost"]]
        assert wait_for(ours, timeout=30)
        for name in ours():
            rabbit_manager.delete_connection(name)
        with pytest.raises((OSError, amqp.exceptions.AMQPError)):
            publisher.publish_batch(batch)
        publisher.publish_batch(batch)
        assert publisher.conn.broker_url == other
    finally:
        publisher.close()


def test_a_message_that_keeps_coming_back_unacked_is_parked_by_the_broker(rabbit_config):
    """A poison message (its consumer dies on it, or keeps giving it back): after
    ``EVENT_DELIVERY_LIMIT`` returns the broker dead-letters it into the DLQ."""
    amqp_uri = rabbit_config["AMQP_URI"]
    names = QueueNames("demo", "crashing", 1, delivery_limit=3)
    conn = connect(amqp_uri, confirm_publish=True)
    try:
        channel = conn.channel()
        # as shared.ops.topology leaves them: the queues, and the service's requeue exchange
        # (the handler's queue dead-letters into it) with each queue bound by name
        channel.exchange_declare(requeue_exchange_name("demo"), "direct", durable=True,
                                 auto_delete=False)
        for name, arguments in names.declarations():
            channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments)
            channel.queue_bind(name, requeue_exchange_name("demo"), name)
        channel.basic_publish(amqp.Message(b"poison", delivery_mode=2, message_id="p-1"),
                              exchange="", routing_key=names.main)
        def parked():
            return channel.queue_declare(names.dlq, passive=True)[1] == 1

        # Given back until the broker parks it (not until a quiet second: a busy
        # broker may take longer than that to deliver it again).
        deliveries, deadline = 0, time.monotonic() + 60
        while not parked():
            assert time.monotonic() < deadline, \
                f"never dead-lettered ({deliveries} deliveries so far)"
            message = channel.basic_get(names.main, no_ack=False)
            if message is None:
                time.sleep(0.05)
                continue
            deliveries += 1
            channel.basic_reject(message.delivery_tag, requeue=True)
        assert deliveries == 4  # the first and three returns
        assert channel.basic_get(names.main, no_ack=True) is None
    finally:
        conn.close()
    [parked] = show(amqp_uri, names.main)
    assert parked["message_id"] == "p-1"
    assert parked["error"] == "delivery_limit in demo.crashing (dead-lettered by RabbitMQ)"
