"""Plain AMQP plumbing outside nameko: connections from an ``AMQP_URI``, exchange
names, and a publisher that confirms a whole batch with one wait."""
import time
from urllib.parse import unquote, urlparse

import amqp
from kombu import Exchange

CLOUDEVENTS_JSON = "application/cloudevents+json"


def events_exchange_name(service):
    """The public, durable topic exchange of a service; routing key = event type (D-3)."""
    return f"{service}.events"


def private_exchange_name(service):
    """Messages that must not reach outside systems (e.g. codes to the notification
    service). Only our own consumers bind queues to it."""
    return f"{service}.private"


def kombu_exchange(name):
    return Exchange(name, type="topic", durable=True, auto_delete=False)


def connect(amqp_uri, heartbeat=0, confirm_publish=False):
    """A py-amqp connection; with ``confirm_publish`` each publish waits for its confirm."""
    parts = urlparse(amqp_uri)
    vhost = unquote(parts.path[1:]) if parts.path and parts.path != "/" else "/"
    conn = amqp.Connection(
        host=f"{parts.hostname or 'localhost'}:{parts.port or 5672}",
        userid=unquote(parts.username or "guest"), password=unquote(parts.password or "guest"),
        virtual_host=vhost or "/", heartbeat=heartbeat, connect_timeout=10,
        confirm_publish=confirm_publish)
    conn.connect()
    return conn


def declare_exchange(channel, name):
    channel.exchange_declare(name, "topic", durable=True, auto_delete=False)


class PublishFailed(Exception):
    pass


class BatchPublisher:
    """Publishes persistent messages with publisher confirms, waiting once per batch
    rather than once per message (a confirm round trip per message caps throughput at
    the broker's fsync rate)."""

    def __init__(self, amqp_uri, confirm_timeout=30):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self.conn = None
        self._declared = set()

    def _open(self):
        self.conn = connect(self.amqp_uri)
        self.channel = self.conn.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._unconfirmed = set()
        self._nacked = set()
        self._declared = set()

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
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
        if self.conn is None:
            self._open()
        try:
            for exchange, routing_key, body, properties in messages:
                if exchange and exchange not in self._declared:
                    declare_exchange(self.channel, exchange)
                    self._declared.add(exchange)
                message = amqp.Message(body, delivery_mode=2, **properties)
                self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
                self._unconfirmed.add(self._next_tag)
                self._next_tag += 1
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishFailed(f"{len(self._unconfirmed)} messages not confirmed")
                self.conn.drain_events(timeout=remaining)
            if self._nacked:
                raise PublishFailed(f"broker refused {len(self._nacked)} messages")
        except Exception:
            self.close()  # a fresh channel next time: delivery tags start again at 1
            raise
