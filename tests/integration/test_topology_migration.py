"""Issue 13 §2: every queue our consumers read is a quorum queue, declared by
``shared.ops.topology`` — and a deployment of classic queues (the shape before) becomes
one without losing a message, by the same ``python -m shared.ops.topology`` that
``make run`` runs. On the real broker, in a vhost of the test's own."""
import uuid

import amqp
import pytest

from shared.runtime.amqp import connect, events_exchange_name, private_exchange_name
from shared.runtime.consumer import ATTEMPT_HEADER, ERROR_HEADER
from shared.ops.deadletters import show
from shared.ops.topology import MIGRATING_SUFFIX, MigrationRefused, check, declare, queue_groups

pytestmark = pytest.mark.integration

MAIN = "notification.on_booking_email"
OLD_BACK = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": MAIN}


def classic_queue(channel, name, arguments=None, binding=None):
    """A queue as deployments before issue 13 declared it."""
    channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments or {})
    if binding:
        channel.exchange_declare(binding[0], "topic", durable=True, auto_delete=False)
        channel.queue_bind(name, *binding)


def put(channel, queue, body, **properties):
    properties.setdefault("message_id", str(uuid.uuid4()))
    channel.basic_publish(amqp.Message(body, delivery_mode=2, **properties), exchange="",
                          routing_key=queue)
    return properties["message_id"]


def take_all(channel, queue):
    found = []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        found.append(message)
    return found


def queue_type(rabbit_manager, vhost, name):
    return rabbit_manager.get_queue(vhost, name)["type"]


@pytest.fixture
def broker(rabbit_config):
    conn = connect(rabbit_config["AMQP_URI"], confirm_publish=True)
    yield conn.channel()
    conn.close()


def test_a_classic_deployment_becomes_quorum_queues_with_every_message(
        broker, rabbit_config, rabbit_manager):
    amqp_uri, vhost = rabbit_config["AMQP_URI"], rabbit_config["vhost"]
    classic_queue(broker, MAIN, binding=(private_exchange_name("booking"), "EmailRequested"))
    waiting = [put(broker, MAIN, f"request {n}".encode(), content_type="application/json",
                   application_headers={"x-asan-note": n}) for n in range(3)]
    classic_queue(broker, f"{MAIN}.retry.1", OLD_BACK)
    retrying = put(broker, f"{MAIN}.retry.1", b"retry me", expiration="60000",
                   application_headers={ATTEMPT_HEADER: 2, ERROR_HEADER: "SMTP down"})
    classic_queue(broker, f"{MAIN}.dlq")
    parked = [put(broker, f"{MAIN}.dlq", f"parked {n}".encode(),
                  application_headers={ATTEMPT_HEADER: 4, ERROR_HEADER: "boom"})
              for n in range(2)]
    classic_queue(broker, "rpc-booking", binding=("nameko-rpc", "booking.*"))
    classic_queue(broker, "monitoring.on_booking_event",
                  binding=(events_exchange_name("booking"), "#"))
    assert set(check(amqp_uri)) == {MAIN, f"{MAIN}.retry.1", f"{MAIN}.dlq", "rpc-booking",
                                     "monitoring.on_booking_event"}

    migrated = []
    declare(amqp_uri, migrated=migrated)

    assert {MAIN, f"{MAIN}.retry.1", f"{MAIN}.dlq", "rpc-booking",
            "monitoring.on_booking_event"} <= set(migrated)
    every_queue = [spec.name for group in queue_groups() for spec in group]
    assert {queue_type(rabbit_manager, vhost, name) for name in every_queue} == {"quorum"}
    assert check(amqp_uri) == []  # and declaring again changes nothing
    assert declare(amqp_uri, migrated=(again := [])) and again == []
    assert not [q["name"] for q in rabbit_manager.get_queues(vhost)
                if q["name"].endswith(MIGRATING_SUFFIX)]

    # The same messages, in their order, with their properties and headers.
    main = take_all(broker, MAIN)
    assert [m.properties["message_id"] for m in main] == waiting
    assert [m.body for m in main] == [b"request 0", b"request 1", b"request 2"]
    assert [m.properties["application_headers"]["x-asan-note"] for m in main] == [0, 1, 2]
    assert main[0].properties["content_type"] == "application/json"
    [retry] = take_all(broker, f"{MAIN}.retry.1")
    assert retry.properties["message_id"] == retrying
    assert retry.properties["expiration"] == "60000"  # still on its way back, not expired
    assert [m["message_id"] for m in show(amqp_uri, MAIN)] == parked
    # The binding is back: an event published now reaches the new queue.
    broker.basic_publish(amqp.Message(b"new", delivery_mode=2),
                         exchange=private_exchange_name("booking"), routing_key="EmailRequested")
    assert [m.body for m in take_all(broker, MAIN)] == [b"new"]


def test_an_interrupted_migration_is_finished_by_the_next_run(broker, rabbit_config,
                                                               rabbit_manager):
    """Killed after the messages were set aside and the old queue deleted."""
    amqp_uri, vhost = rabbit_config["AMQP_URI"], rabbit_config["vhost"]
    broker.queue_declare(MAIN + MIGRATING_SUFFIX, durable=True, auto_delete=False,
                         arguments={"x-queue-type": "quorum"})
    aside = [put(broker, MAIN + MIGRATING_SUFFIX, b"set aside") for _ in range(2)]
    assert MAIN + MIGRATING_SUFFIX in check(amqp_uri)

    declare(amqp_uri, migrated=(migrated := []))

    assert MAIN in migrated
    assert [m.properties["message_id"] for m in take_all(broker, MAIN)] == aside
    assert queue_type(rabbit_manager, vhost, MAIN) == "quorum"
    assert MAIN + MIGRATING_SUFFIX not in [q["name"] for q in rabbit_manager.get_queues(vhost)]


def test_a_queue_still_consumed_is_not_migrated(broker, rabbit_config):
    classic_queue(broker, MAIN)
    put(broker, MAIN, b"waiting")
    consumer = connect(rabbit_config["AMQP_URI"])
    try:
        consumer.channel().basic_consume(MAIN, callback=lambda message: None)
        with pytest.raises(MigrationRefused, match="stop the services"):
            declare(rabbit_config["AMQP_URI"])
    finally:
        consumer.close()
    declare(rabbit_config["AMQP_URI"])  # the consumer gone, it is
    assert [m.body for m in take_all(broker, MAIN)] == [b"waiting"]
