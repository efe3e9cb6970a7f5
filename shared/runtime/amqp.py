"""Plain AMQP plumbing outside nameko: connections from an ``AMQP_URI``, exchange
names, and a publisher that confirms a whole batch with one wait.

An ``AMQP_URI`` may name several nodes of one RabbitMQ cluster, separated by ``;``
(kombu's failover syntax, which nameko hands to kombu as it is)::

    amqp://booking:…@rabbit-1:5672/;amqp://booking:…@rabbit-2:5672/;amqp://…

A node may be ``amqps://`` (TLS, port 5671 by default): its certificate is verified
against ``AMQP_CA_FILE`` (:func:`tls_options`).

:func:`connect` tries them in turn, so our own tools (the relay, topology, the
dead-letter tool, monitoring's gauges) reach whichever node is up, as nameko's
consumers and publishers do.
"""
import logging
import os
import time
from urllib.parse import unquote, urlparse

import amqp
from kombu import Exchange

# Named by the catalogue, which a pure domain reaches through its events.py.
from ..vocabulary.catalog import events_exchange_name

CLOUDEVENTS_JSON = "application/cloudevents+json"
log = logging.getLogger(__name__)


def requeue_exchange_name(service):
    """A service's own direct exchange through which its consumers put a message back
    into one of their queues (a retry, a delay, the DLQ), routed by queue name. Not
    the default exchange: a right to publish there would be a right to publish into
    every queue of the broker, ours and the subscribers' (issue 14 §1)."""
    return f"{service}.requeue"


def stream_name(service):
    """The RabbitMQ stream every public event of ``service`` also goes to, in the order
    the relay published them, for replay from any point (D-3, issue 14 §2). It is
    bound to the events exchange with ``#``: the relay's one publish reaches both."""
    return f"{events_exchange_name(service)}.stream"


def private_exchange_name(service):
    """Messages that must not reach outside systems (e.g. codes to the notification
    service). Only our own consumers bind queues to it."""
    return f"{service}.private"


def kombu_exchange(name, declare=True):
    """Our topic exchange ``name`` for kombu. ``declare=False`` for a consumer binding
    to another service's exchange: ``shared.ops.topology`` declared it, and declaring needs
    the configure right, which also allows deleting it."""
    return Exchange(name, type="topic", durable=True, auto_delete=False,
                    no_declare=not declare)


def broker_urls(amqp_uri):
    """The node URLs of an ``AMQP_URI``: one, or several separated by ``;``."""
    urls = [url.strip() for url in amqp_uri.split(";") if url.strip()]
    if not urls:
        raise ValueError("AMQP_URI names no broker")
    return urls


def tls_options(hostname, ca_file=None):
    """py-amqp's ``ssl`` argument for an ``amqps://`` node: the broker's certificate
    verified (chain and host name) against ``ca_file`` (``AMQP_CA_FILE``; default:
    the system's trusted CAs). Never without verification: a password sent to a
    broker we did not verify is a password given away."""
    ca_file = ca_file or os.environ.get("AMQP_CA_FILE") or None
    return {"context": {"cafile": ca_file, "check_hostname": True},
            "server_hostname": hostname}


def _connect_one(url, heartbeat, confirm_publish, connect_timeout):
    parts = urlparse(url)
    vhost = unquote(parts.path[1:]) if parts.path and parts.path != "/" else "/"
    tls = parts.scheme == "amqps"
    hostname = parts.hostname or "localhost"
    conn = amqp.Connection(
        host=f"{hostname}:{parts.port or (5671 if tls else 5672)}",
        userid=unquote(parts.username or ""), password=unquote(parts.password or ""),
        virtual_host=vhost or "/", heartbeat=heartbeat, connect_timeout=connect_timeout,
        confirm_publish=confirm_publish, ssl=tls_options(hostname) if tls else False)
    try:
        conn.connect()
    except BaseException:
        conn.collect()  # nothing of a half-open connection stays behind
        raise
    return conn


def connect(amqp_uri, heartbeat=0, confirm_publish=False, connect_timeout=5):
    """A py-amqp connection to the first node of ``amqp_uri`` that answers, tried in
    the order given; raises the last node's error when none does. With
    ``confirm_publish`` each publish waits for its confirm. ``conn.broker_url`` is the
    node it reached."""
    error = None
    for url in broker_urls(amqp_uri):
        try:
            conn = _connect_one(url, heartbeat, confirm_publish, connect_timeout)
        except (OSError, amqp.exceptions.AMQPError) as failed:  # refused, reset, timed out
            log.warning("broker %s did not answer: %s", _without_password(url), failed)
            error = failed
            continue
        conn.broker_url = url
        return conn
    raise error


def _without_password(url):
    parts = urlparse(url)
    return f"{parts.hostname}:{parts.port or 5672}"


def declare_exchange(channel, name):
    """Declares the topic exchange ``name`` (durable, not auto-deleted), as every events
    exchange is; idempotent with the same arguments."""
    channel.exchange_declare(name, "topic", durable=True, auto_delete=False)


class PublishFailed(Exception):
    """A batch was not confirmed by the broker (a nack, a confirm that did not come within
    ``confirm_timeout`` seconds, a lost connection): publish the whole batch again."""

    pass


class BatchPublisher:
    """Publishes persistent messages with publisher confirms, waiting once per batch
    rather than once per message (a confirm round trip per message caps throughput at
    the broker's fsync rate).

    A batch that fails (its node died, a confirm did not come) raises, and the next
    batch goes to another node of ``amqp_uri`` first: the node that failed is tried
    last. The caller publishes the whole batch again (the relay: its rows are still
    in the outbox), so nothing unconfirmed is lost; what had been confirmed goes out
    twice, with the same message id."""

    def __init__(self, amqp_uri, confirm_timeout=30):
        self.amqp_uri = amqp_uri
        self.urls = broker_urls(amqp_uri)
        self.confirm_timeout = confirm_timeout
        self.conn = None
        self._declared = set()

    def _open(self):
        self.conn = connect(";".join(self.urls))
        self.channel = self.conn.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._unconfirmed = set()
        self._nacked = set()
        self._declared = set()

    def close(self):
        """Closes the connection, if any, ignoring errors from one already broken; the next
        batch opens a new one."""
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # closing a broken connection
                pass
            self.conn = None

    def _settle(self, tags, delivery_tag, multiple):
        settled = {tag for tag in self._unconfirmed if tag <= delivery_tag} if multiple \
            else {delivery_tag}
        self._unconfirmed -= settled
        tags |= settled

    def _on_ack(self, delivery_tag, multiple):
        self._settle(set(), delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple):
        self._settle(self._nacked, delivery_tag, multiple)

    def publish_batch(self, messages):
        """``messages``: iterable of (exchange, routing_key, body, properties).
        Returns when the broker confirmed all of them; raises otherwise."""
        self.send(messages)
        self.wait_confirms()

    def send(self, messages):
        """Publish ``messages`` without waiting: :meth:`wait_confirms` waits for the
        broker to confirm them (meanwhile the caller may do other work — the relay
        fetches its next batch). Raises on a broken connection."""
        try:
            if self.conn is None:
                self._open()
            for exchange, routing_key, body, properties in messages:
                if exchange and exchange not in self._declared:
                    declare_exchange(self.channel, exchange)
                    self._declared.add(exchange)
                message = amqp.Message(body, delivery_mode=2, **properties)
                self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
                self._unconfirmed.add(self._next_tag)
                self._next_tag += 1
        except Exception:
            self._avoid(getattr(self.conn, "broker_url", None))
            self.close()  # a fresh channel next time: delivery tags start again at 1
            raise

    def wait_confirms(self):
        """Return once the broker confirmed everything sent; raise
        :class:`PublishFailed` when it refused a message or a confirm did not come in
        ``confirm_timeout`` seconds (then the next batch goes to another node)."""
        try:
            if self.conn is None:
                raise PublishFailed("the connection was lost before the confirms came")
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishFailed(f"{len(self._unconfirmed)} messages not confirmed")
                self.conn.drain_events(timeout=remaining)
            if self._nacked:
                self._nacked.clear()
                raise PublishFailed("the broker refused messages")
        except Exception:
            self._avoid(getattr(self.conn, "broker_url", None))
            self.close()  # a fresh channel next time: delivery tags start again at 1
            raise

    def _avoid(self, url):
        """Try ``url`` (the node a batch failed on) last from now on."""
        if url in self.urls and len(self.urls) > 1:
            self.urls.remove(url)
            self.urls.append(url)
