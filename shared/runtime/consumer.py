"""The standard way to consume events in a nameko service: ``@on_event``.

    @on_event("booking", "BookingRequested", catalog=booking_events.CATALOG)
    def on_booking_requested(self, event):          # event: shared.vocabulary.envelope.Envelope
        with self.db.handling(event) as uow:         # claims event.id for this handler
            ...                                      # the effect, in the same transaction

Nothing is lost and nothing happens twice:

* each handler has its own queue ``<service>.<method>`` bound to the source's
  exchange, declared by ``python -m shared.ops.topology`` before anything publishes;
  every queue here is a quorum queue, replicated on the nodes of a RabbitMQ cluster,
  with the arguments of ``shared.runtime.queues`` (a message that keeps coming back unacked,
  e.g. one that crashes the process, is parked by the broker after
  ``EVENT_DELIVERY_LIMIT`` deliveries);
* the message is acked only after the handler's transaction committed; a redelivery
  finds the event id recorded (``AlreadyHandled``) and is acked without effect;
* a handler that raises is retried with back-off: the message is republished to
  ``<queue>.retry.<n>``, a queue without consumers whose messages expire after the n-th
  delay and are dead-lettered back into ``<queue>``; after the last retry it is parked
  in ``<queue>.dlq`` with the error, for an operator to list and replay
  (``python -m shared.ops.deadletters``);
* a message that is not a valid CloudEvent of a known type is parked at once;
* a handler may also ask for the *same* message again later, which is not a failure:
  it raises :class:`RedeliverLater` after its transaction committed what happened
  (e.g. an email refused with 451 and recorded as a temporary failure), and decides
  itself when to stop asking. Such a handler is declared with ``redelivery=True`` and
  gets delay queues ``<queue>.delay.<ttl>`` (1 s … 1 h, ``EVENT_REDELIVERY_DELAYS_MS``),
  each with a *queue-level* TTL, dead-lettered back into ``<queue>``. (A per-message
  TTL would not do: RabbitMQ only expires messages at the head of a queue, so a 1-hour
  message would hold back a 1-second one behind it.) The message goes to the longest
  delay not above the one asked for, with the instant it is due in a header; one that
  comes back early is sent round again through the delay that fits, so the handler
  sees it when it asked to, give or take the shortest delay. A redelivery starts the
  failure count again: a handler that then raises still retries, then parks.

nameko's own ``@event_handler`` acks a message whose handler raised, losing it; this
entrypoint is why we do not use it.

``@on_events`` is the same consumer for a handler that applies many events in one
transaction (the monitoring read models: one transaction and one ack per event cost
far more than the work itself)::

    @on_events("booking", "#", catalog=booking_events.CATALOG, batch=500, max_wait_ms=50)
    def on_booking_event(self, events):              # [Envelope], in delivery order
        with self.db.handling_many(events) as (uow, fresh):  # claims every id at once
            ...                                      # the effect of ``fresh`` only

Same queues, same retries and parking, same exactly-once: the handler gets up to
``batch`` events, as many as arrived within ``max_wait_ms`` of the first; the batch's
ids are claimed in its transaction and only the ones not seen before are given to
the effect (a redelivery, or the same event twice in one batch, has no second
effect); after the commit the whole batch is acked with *one* ``basic.ack
multiple``. That is exact because each such handler consumes on a channel of its
own (``BatchQueueConsumer``), its messages are taken in delivery order and one batch
at a time, so every lower delivery tag of the channel is settled already. A crash
between commit and ack redelivers the batch, whose ids are then all claimed. A batch
whose transaction fails is applied again one event per transaction: the events that
succeed are acked, and only the failing one goes the way of ``@on_event`` (retries,
then its DLQ), so a poison event never holds back the others. The prefetch is twice
the batch, so the next batch is on its way while one is applied.
"""
import json
import logging
import time
import traceback
from dataclasses import dataclass
from functools import partial

import kombu
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue

import kombu.serialization
from kombu import Queue
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer, QueueConsumer

from . import queues
from .amqp import (CLOUDEVENTS_JSON, events_exchange_name, kombu_exchange, private_exchange_name,
                   requeue_exchange_name)
from ..vocabulary.catalog import InvalidEventData, UnknownEventType
from ..vocabulary.clock import utcnow
from ..vocabulary.envelope import envelope_from_dict
from .eventstore import AlreadyHandled
from .metrics import CONSUMED_OUTCOMES, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, at_zero
from .settings import setting

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-asan-attempt"
ERROR_HEADER = "x-asan-error"
REDELIVERIES_HEADER = "x-asan-redeliveries"  # how often the handler asked for it again
DUE_HEADER = "x-asan-due"  # epoch milliseconds: not to be handled before then
ATTEMPT_CONTEXT = "asan_attempt"
FINAL_CONTEXT = "asan_final_attempt"
REDELIVERIES_CONTEXT = "asan_redeliveries"

kombu.serialization.register(
    "cloudevents", lambda obj: json.dumps(obj, ensure_ascii=False),
    lambda data: json.loads(data), content_type=CLOUDEVENTS_JSON, content_encoding="utf-8")


def retry_delays(config):
    """The failure retry delays in ms, one per retry (``EVENT_RETRY_DELAYS_MS``); their
    count is the number of retries before the DLQ."""
    return setting(config, "EVENT_RETRY_DELAYS_MS", tuple[int, ...])


def redelivery_delays(config):
    """The redelivery delay queues' TTLs in ms, ascending (``EVENT_REDELIVERY_DELAYS_MS``),
    for handlers declared with ``redelivery=True``: a service with such a handler
    declares the key."""
    return tuple(sorted(setting(config, "EVENT_REDELIVERY_DELAYS_MS", tuple[int, ...])))


# What makes a message unreadable: parked at once, never retried.
UNREADABLE = (ValidationError, InvalidEventData, UnknownEventType)


class RedeliverLater(Exception):
    """Raised by a handler (declared with ``redelivery=True``) after its transaction
    committed, to have the same message again in ``delay_seconds``. Not a failure:
    the message is neither retried as one nor ever parked for it."""

    entrypoint_outcome = "later"  # counted apart from errors (shared.runtime.metrics)

    def __init__(self, delay_seconds):
        super().__init__(f"asked to be redelivered in {delay_seconds} s"
                         " (needs @on_event(..., redelivery=True))")
        self.delay_seconds = float(delay_seconds)


def _duration(ms):
    """A delay queue's name part: 1s, 5m, 1h, or 250ms."""
    for unit, size in (("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


class QueueNames:
    """The queues of one handler; topology and the dead-letter tool use the same names.
    A delay queue is named after its TTL, so that another set of delays makes new
    queues instead of clashing with the arguments of the old ones."""

    def __init__(self, service, method, retries, redelivery_delays_ms=(), *, delivery_limit):
        self.service = service
        self.main = f"{service}.{method}"
        self.retries = [f"{self.main}.retry.{n}" for n in range(1, retries + 1)]
        self.delays = {ms: f"{self.main}.delay.{_duration(ms)}"
                       for ms in sorted(redelivery_delays_ms)}
        self.dlq = f"{self.main}.dlq"
        self.delivery_limit = delivery_limit

    @property
    def main_arguments(self):
        """The ``x-arguments`` of the handler's own queue: quorum, dead-lettered to the DLQ
        after ``delivery_limit`` deliveries (``shared.runtime.queues.handler_queue``)."""
        return queues.handler_queue(self.dlq, self.delivery_limit)

    def declarations(self):
        """(name, arguments) of every queue of the handler, its own queue first."""
        return ([(self.main, self.main_arguments)]
                + [(name, queues.retry_queue(self.main)) for name in self.retries]
                + [(name, queues.delay_queue(self.main, ms)) for ms, name in self.delays.items()]
                + [(self.dlq, queues.parking_queue())])

    def delay_queue(self, delay_ms):
        """The delay queue of the longest delay not above ``delay_ms``, or ``None``."""
        fitting = [ms for ms in self.delays if ms <= delay_ms]
        return self.delays[max(fitting)] if fitting else None


def queue_names(service, method, consumer, config):
    """The :class:`QueueNames` of ``consumer`` (an ``@on_event`` entrypoint) under
    ``config``: what the consumer itself and ``shared.ops.topology`` declare."""
    delays = redelivery_delays(config) if consumer.redelivery else ()
    return QueueNames(service, method, len(retry_delays(config)), delays,
                      delivery_limit=queues.delivery_limit(config))


def _epoch_ms():
    """Real time, in which the broker's TTLs run: not the service's clock, which a
    test replaces to move the handler's "now"."""
    return int(utcnow().timestamp() * 1000)


class BrokerSafeQueueConsumer(QueueConsumer):
    """nameko's queue consumer, whose ack and requeue survive a broker connection
    that dies under them.

    nameko skips an ack when the connection is already gone, and ignores py-amqp's
    ``ConnectionError``, but a socket reset in the middle of the ack (the node the
    channel was on was killed: a cluster failover) raises the builtin
    ``ConnectionResetError``/``OSError`` in the worker thread, and nameko kills the
    whole container for it — the service stops consuming until its supervisor
    restarts it. Nothing is lost by ignoring it: an unacked message goes back to its
    queue when its channel dies, and the redelivery is handled once (the consumers'
    ``processed_events``, D-2). Used by the event consumers and the RPC entrypoints."""

    def ack_message(self, message):
        """Ack ``message``; a connection dying meanwhile is logged, not raised."""
        try:
            super().ack_message(message)
        except OSError as error:
            log.warning("ack lost with the broker connection (the message will be "
                        "redelivered and handled once): %r", error)

    def requeue_message(self, message):
        """Requeue ``message``; a connection dying meanwhile is logged, not raised (the
        broker requeues what its dead channel had not acked)."""
        try:
            super().requeue_message(message)
        except OSError as error:
            log.warning("requeue lost with the broker connection (the broker requeues"
                        " it): %r", error)


class EventQueueConsumer(BrokerSafeQueueConsumer):
    """nameko's queue consumer, also accepting ``application/cloudevents+json``, whose
    acks survive a broker connection dying under them."""

    @property
    def accept(self):
        """Serializers accepted: the container's plus ``cloudevents``
        (``application/cloudevents+json``, CloudEvents 1.0 JSON format)."""
        return list(self.container.accept) + ["cloudevents"]


class EventConsumer(Consumer):
    """``@on_event(source_service, event_type)``: the entrypoint that consumes one event per
    transaction, with retries, parking and exactly-once effects (see the module docstring).

    ``event_type``: a routing key (a type, or ``"#"`` for all); ``catalog``: the source's
    ``shared.vocabulary.catalog.Catalog`` to validate and upcast with (an invalid message is
    parked); ``private``: read the source's private exchange instead of its public one;
    ``redelivery``: the handler may raise :class:`RedeliverLater` (gets delay queues)."""

    queue_consumer = EventQueueConsumer()

    def __init__(self, source_service, event_type, catalog=None, private=False,
                 redelivery=False, **kwargs):
        self.source_service = source_service
        self.event_type = event_type  # a routing key: a type, or "#" for all
        self.catalog = catalog
        self.private = private
        self.redelivery = redelivery  # may raise RedeliverLater: gets delay queues
        if redelivery:  # expected: nameko does not log it as an error with a traceback
            expected = kwargs.get("expected_exceptions", ())
            expected = expected if isinstance(expected, tuple) else (expected,)
            kwargs["expected_exceptions"] = expected + (RedeliverLater,)
        super().__init__(queue=None, **kwargs)

    @property
    def exchange_name(self):
        """The exchange the handler's queue is bound to: the source's public events exchange, or
        its private one."""
        if self.private:
            return private_exchange_name(self.source_service)
        return events_exchange_name(self.source_service)

    def setup(self):
        """Declares the handler's queue, retry, delay and DLQ queues and its requeue exchange,
        with the same arguments as ``shared.ops.topology`` (the broker refuses a redeclaration
        with other ones)."""
        config = self.container.config
        self.delays = retry_delays(config)
        self.names = queue_names(self.container.service_name, self.method_name, self, config)
        # kombu declares this queue (and binds it) on every (re)connection of the
        # consumer: with the same arguments as shared.ops.topology, or the broker refuses.
        self.queue = Queue(self.names.main,
                           exchange=kombu_exchange(self.exchange_name, declare=False),
                           routing_key=self.event_type, durable=True, auto_delete=False,
                           queue_arguments=self.names.main_arguments)
        self.publisher = AmqpPublisher(config["AMQP_URI"])
        self.requeue_exchange = requeue_exchange_name(self.container.service_name)
        with self.queue_consumer.connection as conn:
            _ensure_exchange(conn, self.exchange_name)
        with self.queue_consumer.connection as conn, conn.channel() as channel:
            for name, arguments in self.names.declarations():  # (kombu binds the first)
                Queue(name, durable=True, auto_delete=False,
                      queue_arguments=arguments)(channel).declare()
            # Its own requeue exchange (topology made it too; declaring is idempotent).
            channel.exchange_declare(self.requeue_exchange, "direct", durable=True,
                                     auto_delete=False)
            for name, _ in self.names.declarations():
                channel.queue_bind(name, self.requeue_exchange, routing_key=name)
        at_zero(EVENTS_CONSUMED, [self.container.service_name], [self.consumer_name],
                CONSUMED_OUTCOMES)
        at_zero(EVENTS_DEAD_LETTERED, [self.container.service_name], [self.consumer_name])
        super().setup()

    @property
    def consumer_name(self):
        """``<service>.<method>``: the handler's queue name and its label in the metrics."""
        return f"{self.container.service_name}.{self.method_name}"

    def _envelope(self, body):
        """The message ``body`` as an envelope of the contract (upcast to the version
        this code knows); raises one of :data:`UNREADABLE` otherwise."""
        envelope = envelope_from_dict(body)
        if self.catalog is not None:
            envelope = self.catalog.validate_message(envelope, private=self.private)
        return envelope

    def _park_unreadable(self, message, error):
        log.error("unreadable message parked", extra={"consumer": self.consumer_name,
                                                      "error": str(error)})
        self._park(message, f"invalid message: {error}")

    def handle_message(self, body, message):
        """kombu's callback for one message: a message not due yet goes round again; an
        unreadable one (not a CloudEvent of a known type) is parked and acked; otherwise a
        worker runs the handler with the envelope, the correlation id and the delivery counts
        in its context."""
        if self._not_due_yet(message):
            return
        try:
            envelope = self._envelope(body)
        except UNREADABLE as error:
            self._park_unreadable(message, error)
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = envelope.correlationid
        headers = message.headers or {}
        attempt = int(headers.get(ATTEMPT_HEADER, 1))
        context_data[ATTEMPT_CONTEXT] = attempt
        context_data[FINAL_CONTEXT] = attempt > len(self.delays)
        context_data[REDELIVERIES_CONTEXT] = int(headers.get(REDELIVERIES_HEADER, 0))
        handle_result = lambda worker_ctx, result=None, exc_info=None: self.handle_result(  # noqa: E731
            message, worker_ctx, result, exc_info)
        self.container.spawn_worker(self, (envelope,), {}, context_data=context_data,
                                    handle_result=handle_result)

    def handle_message_processed(self, message, result=None, exc_info=None):
        """After the handler: settles the message (ack, retry, delay or DLQ), acks it and counts
        the outcome in ``asan_events_consumed_total``. If the broker fails meanwhile the
        message is requeued instead, never lost."""
        try:
            outcome = self._settle(message, exc_info[1] if exc_info else None, exc_info)
        except Exception:  # broker trouble: give it back, never lose it
            log.exception("could not schedule a retry or redelivery; requeueing")
            self.queue_consumer.requeue_message(message)
            return
        EVENTS_CONSUMED.labels(self.container.service_name, self.consumer_name, outcome).inc()
        self.queue_consumer.ack_message(message)

    def _settle(self, message, raised, exc_info):
        """Where the message goes after the handler: nowhere (acked), a retry queue or
        the DLQ (it failed), or a delay queue (it asked for a redelivery)."""
        if raised is None:
            return "ok"
        if isinstance(raised, AlreadyHandled):
            return "duplicate"
        if isinstance(raised, RedeliverLater) and self.names.delays:
            self._redeliver_later(message, raised.delay_seconds)
            return "later"
        error = "".join(traceback.format_exception_only(*exc_info[:2])).strip()
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        if attempt <= len(self.delays):
            self._republish(message, self.names.retries[attempt - 1],
                            {ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error[:1000]},
                            expiration=self.delays[attempt - 1])
            return "retry"
        self._park(message, error, attempt)
        return "dead_lettered"

    def _redeliver_later(self, message, delay_seconds):
        delay_ms = max(0, int(delay_seconds * 1000))
        redeliveries = int((message.headers or {}).get(REDELIVERIES_HEADER, 0)) + 1
        queue = self.names.delay_queue(delay_ms) or self.names.delays[min(self.names.delays)]
        # A fresh failure count: what failed before this redelivery was dealt with.
        self._republish(message, queue, {ATTEMPT_HEADER: None, ERROR_HEADER: None,
                                         REDELIVERIES_HEADER: redeliveries,
                                         DUE_HEADER: _epoch_ms() + delay_ms})

    def _not_due_yet(self, message):
        """A redelivery back before it is due goes round the delay that fits again
        (True); one due, or due within the shortest delay, is for the handler."""
        due = (message.headers or {}).get(DUE_HEADER)
        queue = self.names.delay_queue(int(due) - _epoch_ms()) if due is not None else None
        if queue is None:
            return False
        try:
            self._republish(message, queue, {})
        except Exception:  # broker trouble: give it back, never lose it
            log.exception("could not send a redelivery round again; requeueing")
            self.queue_consumer.requeue_message(message)
            return True
        self.queue_consumer.ack_message(message)
        return True

    def _park(self, message, error, attempt=1):
        self._republish(message, self.names.dlq, {ATTEMPT_HEADER: attempt,
                                                  ERROR_HEADER: error[:1000]})
        EVENTS_DEAD_LETTERED.labels(self.container.service_name, self.consumer_name).inc()

    def _republish(self, message, queue, changes, expiration=None):
        """Publish a copy of ``message`` to ``queue`` with its headers changed by
        ``changes`` (a ``None`` value removes that header)."""
        headers = dict(message.headers or {})
        for name, value in changes.items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        properties = {key: value for key, value in message.properties.items()
                      if key in ("message_id", "correlation_id", "type", "timestamp")}
        if expiration is not None:
            properties["expiration"] = expiration / 1000  # kombu takes seconds
        # The service's requeue exchange routes by queue name (not the default
        # exchange: see shared.runtime.amqp.requeue_exchange_name); mandatory with confirms
        # makes sure it is stored before the original is acked.
        self.publisher.publish(message.body, exchange=self.requeue_exchange, routing_key=queue,
                               headers=headers,
                               serializer=None, content_type=message.content_type,
                               content_encoding=message.content_encoding, mandatory=True,
                               **properties)


def _ensure_exchange(conn, name):
    """The source exchange a consumer binds to exists (topology declared it, before
    any service starts). Checked passively, which needs no right; only if it is
    missing is it declared, which works for the administrator (the in-process tests)
    and is refused to a service's own account — declaring would need the configure
    right, which is also the right to delete another service's exchange."""
    from amqp.exceptions import NotFound

    with conn.channel() as channel:
        try:
            channel.exchange_declare(name, "topic", durable=True, auto_delete=False,
                                     passive=True)
            return
        except NotFound:
            pass
    with conn.channel() as channel:
        channel.exchange_declare(name, "topic", durable=True, auto_delete=False)


on_event = EventConsumer.decorator


class BatchQueueConsumer(EventQueueConsumer):
    """The queue consumer of ``@on_events`` handlers: each handler on a channel of
    its own, with a prefetch of its own, so that one ``basic.ack multiple`` settles
    exactly its own batch (delivery tags are per channel). Messages are handed over
    in the consumer thread, in delivery order (nameko spawns a thread per message,
    and eventlet does not promise to run them in the order spawned)."""

    def get_consumers(self, consumer_cls, channel):
        """One kombu consumer per ``@on_events`` handler, each on a channel of its own with the
        handler's prefetch."""
        for provider in self._providers:
            own = channel.connection.channel()
            consumer = kombu.Consumer(own, queues=[provider.queue], accept=self.accept,
                                      callbacks=[partial(self.handle_message, provider)],
                                      on_decode_error=self.on_decode_error)
            consumer.qos(prefetch_count=provider.prefetch)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def handle_message(self, provider, body, message):
        """Hands the message to its handler's inbox, in the consumer thread (delivery order)."""
        provider.receive(body, message)


_STOP = object()


class EventBatchConsumer(EventConsumer):
    """``@on_events``: see the module docstring. ``batch``: most events per call;
    ``max_wait_ms``: how long a batch waits for more after its first event."""

    queue_consumer = BatchQueueConsumer()

    def __init__(self, source_service, event_type, catalog=None, batch=500, max_wait_ms=50,
                 **kwargs):
        super().__init__(source_service, event_type, catalog=catalog, **kwargs)
        self.batch = int(batch)
        self.max_wait = max_wait_ms / 1000
        self.prefetch = min(2 * self.batch, 65535)
        self.inbox = None
        self._loop = None

    def setup(self):
        """Creates the inbox that the consumer thread fills and the batch loop empties."""
        self.inbox = LightQueue()
        super().setup()

    def start(self):
        """Starts consuming, and the loop that applies the inbox in batches."""
        super().start()
        self._loop = self.container.spawn_managed_thread(self._apply_batches,
                                                         identifier=self.consumer_name)

    def stop(self):
        """Stops consuming, then lets the batch loop finish the messages already received."""
        super().stop()  # no more messages arrive
        self.inbox.put(_STOP)
        if self._loop is not None:
            self._loop.wait()

    def kill(self):
        """Kills the batch loop; unacked messages are redelivered by the broker."""
        if self._loop is not None:
            self._loop.kill()

    def receive(self, body, message):
        """Queues one message ``(body, message)`` for the batch loop."""
        self.inbox.put((body, message))

    def _apply_batches(self):
        while True:
            item = self.inbox.get()
            if item is _STOP:
                return
            batch, stop = [item], False
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.batch:
                try:
                    item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
                except Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._apply(self._readable(batch))
            if stop:
                return

    def _readable(self, batch):
        """(message, envelope) of each readable message; the others parked at once."""
        readable = []
        for body, message in batch:
            try:
                envelope = self._envelope(body)
            except UNREADABLE as error:
                try:
                    self._park_unreadable(message, error)
                except Exception:  # broker trouble: give it back
                    log.exception("could not park an unreadable message; requeueing")
                    self.queue_consumer.requeue_message(message)
                    continue
                self.queue_consumer.ack_message(message)
                continue
            readable.append((message, envelope))
        return readable

    def _apply(self, batch):
        if not batch:
            return
        worker_ctx, exc_info = self._run([envelope for _, envelope in batch], batch[0][0])
        if exc_info is None:
            duplicates = getattr(worker_ctx, "duplicates", 0)
            self._count("ok", len(batch) - duplicates)
            self._count("duplicate", duplicates)
            last = batch[-1][0]
            if last.channel.connection:  # else the broker has taken them all back
                last.ack(multiple=True)
            return
        if len(batch) > 1:  # which event failed? each on its own, in order
            for one in batch:
                self._apply([one])
            return
        message = batch[0][0]
        self.handle_message_processed(message, None, exc_info)  # retry, or park

    def _run(self, envelopes, first_message):
        """Run the handler on ``envelopes`` in a nameko worker and wait for it; returns
        (worker context, exc_info or None)."""
        done = Event()
        context_data = self.unpack_message_headers(first_message)
        headers = first_message.headers or {}
        attempt = int(headers.get(ATTEMPT_HEADER, 1))
        context_data[ATTEMPT_CONTEXT] = attempt if len(envelopes) == 1 else 1
        context_data[FINAL_CONTEXT] = len(envelopes) == 1 and attempt > len(self.delays)

        def handle_result(worker_ctx, result=None, exc_info=None):
            done.send((worker_ctx, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, (envelopes,), {}, context_data=context_data,
                                    handle_result=handle_result)
        return done.wait()

    def _count(self, outcome, count):
        if count:
            EVENTS_CONSUMED.labels(self.container.service_name, self.consumer_name,
                                   outcome).inc(count)


on_events = EventBatchConsumer.decorator


class Delivery(DependencyProvider):
    """Which delivery of the message this is: the attempt since it last failed or was
    redelivered (``final``: no failure retry would follow), and how often the handler
    already asked for it again with :class:`RedeliverLater`."""

    def get_dependency(self, worker_ctx):
        """The :class:`DeliveryInfo` of the worker's message, from its context."""
        context = worker_ctx.context_data
        return DeliveryInfo(int(context.get(ATTEMPT_CONTEXT, 1)),
                            bool(context.get(FINAL_CONTEXT, False)),
                            int(context.get(REDELIVERIES_CONTEXT, 0)))


@dataclass(frozen=True)
class DeliveryInfo:
    """``attempt``: 1 on the first delivery, counting failures since the last redelivery;
    ``final``: no failure retry would follow this attempt; ``redeliveries``: how often the
    handler already raised :class:`RedeliverLater` for this message."""

    attempt: int
    final: bool
    redeliveries: int = 0
