"""Accounts and least privilege on the broker (issue 14 §1), with real connections.

Each refusal is the broker's own ACCESS_REFUSED (403) on a connection logged in as
the account: an outside subscriber (``shared.ops.subscribers``: another government
system's own account, D-3), and users with the
permissions ``shared.ops.brokerusers`` derives for our services and relays. Everything
happens in a vhost of the test's own (nameko's ``rabbit_config``): the accounts are
made there under names of the test's own, so the users of a running platform (users
are global to the broker) are never touched.
"""
import os
import ssl
import time
import uuid
from urllib.parse import urlsplit

import amqp
import pytest

from shared.ops import brokerusers, subscribers
from shared.runtime import queues
from shared.runtime.amqp import connect

BOOKING_EVENTS, BOOKING_PRIVATE = "booking.events", "booking.private"
OUR_QUEUE = "notification.on_booking_email"  # a queue of ours, bound to booking.private
EVENT_DELIVERY_LIMIT = 10


def _node():
    parts = urlsplit(os.environ["AMQP_URI"].split(";")[0])
    return parts.hostname, parts.port


def _uri(user, password, vhost, scheme="amqp", port=None):
    host, amqp_port = _node()
    return f"{scheme}://{user}:{password}@{host}:{port or amqp_port}/{vhost}"


@pytest.fixture
def broker(rabbit_config):
    """The management API as the administrator, on the test's vhost."""
    return brokerusers.Broker(os.environ["RABBIT_API_URI"], vhost=rabbit_config["vhost"])


@pytest.fixture
def topology(rabbit_config):
    """As ``shared.ops.topology`` leaves it: booking's exchanges, notification's queue
    bound to booking.private, a stream bound to booking.events, another subscriber's
    queue."""
    conn = connect(rabbit_config["AMQP_URI"])
    channel = conn.channel()
    for exchange in (BOOKING_EVENTS, BOOKING_PRIVATE, "notification.events"):
        channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    channel.queue_declare(OUR_QUEUE, durable=True, auto_delete=False,
                          arguments=queues.QUORUM)
    channel.queue_bind(OUR_QUEUE, BOOKING_PRIVATE, "EmailRequested")
    channel.queue_declare("booking.events.stream", durable=True, auto_delete=False,
                          arguments={"x-queue-type": "stream"})
    channel.queue_bind("booking.events.stream", BOOKING_EVENTS, "#")
    channel.queue_declare("sub.other.q", durable=True, auto_delete=False)
    for service in ("notification", "monitoring"):
        channel.exchange_declare(f"{service}.requeue", "direct", durable=True,
                                 auto_delete=False)
    channel.queue_bind(OUR_QUEUE, "notification.requeue", OUR_QUEUE)
    yield channel
    conn.close()


@pytest.fixture
def subscriber(broker, rabbit_config):
    """A subscriber account made by ``subscribers.add`` (revoked afterwards)."""
    name = f"t{uuid.uuid4().hex[:10]}"
    host, port = _node()
    account = subscribers.add(broker, name, host, port, vhost=rabbit_config["vhost"],
                              tls_port=os.environ.get("RABBIT_TLS_PORT"))
    yield account
    subscribers.revoke(broker, name) if _user_exists(broker, account["username"]) else None


@pytest.fixture
def account_as(broker, rabbit_config):
    """``account_as(process)``: the AMQP URI of a user of the test's own with the
    permissions ``shared.ops.brokerusers`` derives for ``process``."""
    made = []

    def make(process):
        user, password = f"test-{uuid.uuid4().hex[:8]}-{process}", uuid.uuid4().hex
        broker.put_user(user, password, brokerusers.TAG, brokerusers.permissions(process))
        made.append(user)
        return _uri(user, password, rabbit_config["vhost"])

    yield make
    for user in made:
        broker.call("DELETE", f"/users/{user}", ok=(204, 404))


def _user_exists(broker, user):
    return broker.call("GET", f"/users/{user}", ok=(200, 404)).get("name") == user


def _refused(conn, action):
    """Run ``action(channel)`` on a fresh channel; assert the broker refused it with
    ACCESS_REFUSED (which closes that channel only)."""
    channel = conn.channel()
    with pytest.raises(amqp.exceptions.AccessRefused) as refused:
        action(channel)
        channel.basic_qos(0, 1, False)  # a round trip: an asynchronous refusal arrives
    assert refused.value.reply_code == 403
    assert "ACCESS_REFUSED" in str(refused.value)


def _publish_confirmed(channel, exchange, routing_key, body=b"{}"):
    channel.confirm_select()
    channel.basic_publish_confirm(amqp.Message(body), exchange=exchange,
                                  routing_key=routing_key)


def _get(channel, queue, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = channel.basic_get(queue, no_ack=True)
        if message is not None:
            return message
        time.sleep(0.1)
    return None


# --- the administrator and guest ----------------------------------------------------

def test_guest_cannot_log_in():
    host, port = _node()
    with pytest.raises(amqp.exceptions.AccessRefused):
        connect(f"amqp://guest:guest@{host}:{port}/")


# --- an outside subscriber ----------------------------------------------------------

def test_a_subscriber_declares_its_own_queue_binds_it_to_public_events_and_consumes(
        subscriber, topology):
    assert subscriber["queue_prefix"].startswith("sub.") \
        and subscriber["queue_prefix"].endswith(".")
    assert BOOKING_EVENTS in subscriber["exchanges"] \
        and BOOKING_PRIVATE not in subscriber["exchanges"]
    assert "booking.events.stream" in subscriber["streams"]
    conn = connect(subscriber["amqp_uri"])
    channel = conn.channel()
    queue = subscriber["queue_prefix"] + "x"
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, BOOKING_EVENTS, "BookingConfirmed")
    _publish_confirmed(topology, BOOKING_EVENTS, "BookingConfirmed", b'{"id": 1}')
    assert _get(channel, queue).body == b'{"id": 1}'
    conn.close()


def test_a_subscriber_reads_a_public_stream(subscriber, topology):
    _publish_confirmed(topology, BOOKING_EVENTS, "BookingRequested", b'{"id": 2}')
    conn = connect(subscriber["amqp_uri"])
    channel = conn.channel()
    channel.basic_qos(0, 10, False)  # a stream is read with a prefetch and acks
    got = []
    channel.basic_consume("booking.events.stream", callback=got.append,
                          arguments={"x-stream-offset": "first"})
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        try:
            conn.drain_events(timeout=0.5)
        except TimeoutError:  # socket.timeout
            pass
    assert got and got[0].body == b'{"id": 2}'
    conn.close()


def test_a_subscriber_is_refused_everything_else(subscriber, topology):
    conn = connect(subscriber["amqp_uri"], confirm_publish=True)
    own = subscriber["queue_prefix"] + "x"
    conn.channel().queue_declare(own, durable=True, auto_delete=False)
    # A private exchange (booking codes go through it).
    _refused(conn, lambda ch: ch.queue_bind(own, BOOKING_PRIVATE, "#"))
    # Publishing: to a public exchange, or to any queue through the default exchange.
    _refused(conn, lambda ch: ch.basic_publish(amqp.Message(b"{}"), BOOKING_EVENTS, "X"))
    _refused(conn, lambda ch: ch.basic_publish(amqp.Message(b"{}"), "", OUR_QUEUE))
    # Another subscriber's queues.
    _refused(conn, lambda ch: ch.queue_declare("sub.other.q", durable=True, auto_delete=False))
    _refused(conn, lambda ch: ch.basic_consume("sub.other.q", callback=print))
    _refused(conn, lambda ch: ch.queue_delete("sub.other.q"))
    # Our queues.
    _refused(conn, lambda ch: ch.queue_declare(OUR_QUEUE, durable=True, auto_delete=False,
                                               arguments=queues.QUORUM))
    _refused(conn, lambda ch: ch.basic_consume(OUR_QUEUE, callback=print))
    _refused(conn, lambda ch: ch.basic_get(OUR_QUEUE))
    _refused(conn, lambda ch: ch.queue_purge(OUR_QUEUE))
    # Exchanges: declaring one, or deleting ours.
    _refused(conn, lambda ch: ch.exchange_declare("booking.events2", "topic", durable=True,
                                                  auto_delete=False))
    _refused(conn, lambda ch: ch.exchange_delete(BOOKING_EVENTS))
    conn.close()


def test_revoking_a_subscriber_closes_its_connection_and_it_cannot_log_in_again(
        subscriber, broker):
    conn = connect(subscriber["amqp_uri"], heartbeat=0)
    channel = conn.channel()
    name = subscriber["username"].removeprefix(subscribers.USER_PREFIX)
    assert name in [row["name"] for row in subscribers.listing(broker)]
    closed = subscribers.revoke(broker, name)
    assert closed == 1
    with pytest.raises((amqp.exceptions.ConnectionForced, OSError,
                        amqp.exceptions.RecoverableConnectionError)):
        channel.queue_declare(subscriber["queue_prefix"] + "y", durable=True, auto_delete=False)
        conn.drain_events(timeout=5)
    with pytest.raises(amqp.exceptions.AccessRefused):
        connect(subscriber["amqp_uri"])
    assert name not in [row["name"] for row in subscribers.listing(broker)]


# --- our services and relays --------------------------------------------------------

def test_only_the_notification_service_reads_the_private_exchange(account_as, topology):
    notification = connect(account_as("notification"))
    channel = notification.channel()
    arguments = queues.handler_queue(f"{OUR_QUEUE}.dlq", EVENT_DELIVERY_LIMIT)
    topology.queue_delete(OUR_QUEUE)  # declared again as the service does, with its DLX
    channel.queue_declare(OUR_QUEUE, durable=True, auto_delete=False, arguments=arguments)
    channel.queue_bind(OUR_QUEUE, BOOKING_PRIVATE, "EmailRequested")
    _publish_confirmed(topology, BOOKING_PRIVATE, "EmailRequested", b'{"code": "1234"}')
    assert _get(channel, OUR_QUEUE).body == b'{"code": "1234"}'
    notification.close()

    monitoring = connect(account_as("monitoring"))
    _refused(monitoring, lambda ch: ch.queue_bind("monitoring.on_booking_event",
                                                  BOOKING_PRIVATE, "#"))
    _refused(monitoring, lambda ch: ch.basic_consume(OUR_QUEUE, callback=print))
    monitoring.close()
    booking = connect(account_as("booking"))  # it publishes nothing itself: its relay does
    _refused(booking, lambda ch: ch.basic_consume(OUR_QUEUE, callback=print))
    _refused(booking, lambda ch: ch.basic_publish(amqp.Message(b"{}"), BOOKING_EVENTS, "X"))
    booking.close()


def test_no_service_can_publish_into_any_queue_or_delete_anothers_exchange(account_as, topology):
    """The breaker's findings: with write on the default exchange, notification or
    monitoring could put a forged email request into notification's queue or a forged
    event into a stream; with configure on another service's exchange, delete it and
    silently drop its events. Both are refused now; each service requeues through its
    own exchange only."""
    for process in ("notification", "monitoring"):
        conn = connect(account_as(process))
        _refused(conn, lambda ch: ch.basic_publish(amqp.Message(b"{}"), "", OUR_QUEUE))
        _refused(conn, lambda ch: ch.basic_publish(amqp.Message(b"{}"), "",
                                                   "booking.events.stream"))
        _refused(conn, lambda ch: ch.exchange_delete(BOOKING_EVENTS))
        _refused(conn, lambda ch: ch.exchange_delete(BOOKING_PRIVATE))
        other = "monitoring" if process == "notification" else "notification"
        _refused(conn, lambda ch: ch.basic_publish(amqp.Message(b"{}"), f"{other}.requeue", "x"))
        conn.close()
    notification = connect(account_as("notification"), confirm_publish=True)
    channel = notification.channel()
    channel.exchange_declare("notification.requeue", "direct", durable=True,
                             auto_delete=False, passive=True)
    channel.basic_publish(amqp.Message(b"{}"), "notification.requeue", OUR_QUEUE)  # confirmed
    notification.close()


def test_a_relay_publishes_its_own_services_events_and_consumes_nothing(account_as, topology):
    relay = connect(account_as("booking-relay"), confirm_publish=True)
    channel = relay.channel()
    channel.exchange_declare(BOOKING_EVENTS, "topic", durable=True, auto_delete=False)
    channel.basic_publish(amqp.Message(b"{}"), BOOKING_EVENTS, "BookingRequested")  # confirmed
    channel.basic_publish(amqp.Message(b"{}"), BOOKING_PRIVATE, "EmailRequested")
    _refused(relay, lambda ch: ch.basic_publish(amqp.Message(b"{}"), "notification.events", "X"))
    _refused(relay, lambda ch: ch.basic_consume(OUR_QUEUE, callback=print))
    _refused(relay, lambda ch: ch.basic_get(OUR_QUEUE))
    _refused(relay, lambda ch: ch.queue_declare("booking.relay.q", durable=True))
    relay.close()


def test_the_derived_permissions_follow_the_code():
    """From the topology: notification binds to booking.private; the kiosk gateway
    calls booking over RPC (reply queues of its own); booking answers RPC."""
    assert "booking\\.private" in brokerusers.permissions("notification")["read"]
    assert "booking\\.private" not in brokerusers.permissions("monitoring")["read"]
    assert "rpc\\.reply\\-kiosk_gateway\\-" in brokerusers.permissions("kiosk_gateway")["configure"]
    assert "rpc\\-booking" in brokerusers.permissions("booking")["read"]
    assert brokerusers.permissions("web") == {"configure": "^$", "write": "^$", "read": "^$"}
    assert brokerusers.permissions("booking-relay")["read"] == "^$"


# --- TLS ----------------------------------------------------------------------------

def test_amqps_verifies_the_broker_with_the_local_ca_and_refuses_a_client_without_it(
        subscriber, monkeypatch):
    tls_port = os.environ["RABBIT_TLS_PORT"]
    ca = os.path.join(os.environ["ASAN_TLS_DIR"], "ca.pem")
    uri = subscriber["amqps_uri"].replace("127.0.0.1", "localhost")  # the certificate's name
    assert uri.startswith("amqps://") and f":{tls_port}/" in uri
    monkeypatch.setenv("AMQP_CA_FILE", ca)
    conn = connect(uri)
    assert conn.transport.sock.version() in ("TLSv1.3", "TLSv1.2")
    conn.channel().queue_declare(subscriber["queue_prefix"] + "tls", durable=True,
                                 auto_delete=False)
    conn.close()
    monkeypatch.delenv("AMQP_CA_FILE")  # the system's CAs only: our CA is not among them
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(uri)
