"""The standard way to consume events in a nameko service: ``@on_event``.

    @on_event("booking", "BookingRequested", catalog=booking_events.CATALOG)
    def on_booking_requested(self, event):          # event: shared.envelope.Envelope
        with self.db.handling(event) as uow:         # claims event.id for this handler
            ...                                      # the effect, in the same transaction

Nothing is lost and nothing happens twice:

* each handler has its own durable queue ``<service>.<method>`` bound to the source's
  exchange, declared by ``python -m shared.topology`` before anything publishes;
* the message is acked only after the handler's transaction committed; a redelivery
  finds the event id recorded (``AlreadyHandled``) and is acked without effect;
* a handler that raises is retried with back-off: the message is republished to
  ``<queue>.retry.<n>``, a queue without consumers whose messages expire after the n-th
  delay and are dead-lettered back into ``<queue>``; after the last retry it is parked
  in ``<queue>.dlq`` with the error, for an operator to list and replay
  (``python -m shared.deadletters``);
* a message that is not a valid CloudEvent of a known type is parked at once.

nameko's own ``@event_handler`` acks a message whose handler raised, losing it; this
entrypoint is why we do not use it.
"""
import json
import logging
import traceback
from dataclasses import dataclass

import kombu.serialization
from kombu import Queue
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer, QueueConsumer

from .amqp import CLOUDEVENTS_JSON, events_exchange_name, kombu_exchange, private_exchange_name
from .catalog import InvalidEventData, UnknownEventType
from .envelope import envelope_from_dict
from .eventstore import AlreadyHandled
from .metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS_MS = (1000, 5000, 30000)
ATTEMPT_HEADER = "x-asan-attempt"
ERROR_HEADER = "x-asan-error"
ATTEMPT_CONTEXT = "asan_attempt"
FINAL_CONTEXT = "asan_final_attempt"

kombu.serialization.register(
    "cloudevents", lambda obj: json.dumps(obj, ensure_ascii=False),
    lambda data: json.loads(data), content_type=CLOUDEVENTS_JSON, content_encoding="utf-8")


def retry_delays(config):
    return tuple(int(ms) for ms in config.get("EVENT_RETRY_DELAYS_MS", DEFAULT_RETRY_DELAYS_MS))


class QueueNames:
    """The queues of one handler; topology and the dead-letter tool use the same names."""

    def __init__(self, service, method, retries):
        self.main = f"{service}.{method}"
        self.retries = [f"{self.main}.retry.{n}" for n in range(1, retries + 1)]
        self.dlq = f"{self.main}.dlq"

    def declarations(self):
        """(name, arguments) of every queue but the main one."""
        retry_args = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.main}
        return [(name, retry_args) for name in self.retries] + [(self.dlq, {})]


class EventQueueConsumer(QueueConsumer):
    """nameko's queue consumer, also accepting ``application/cloudevents+json``."""

    @property
    def accept(self):
        return list(self.container.accept) + ["cloudevents"]


class EventConsumer(Consumer):
    queue_consumer = EventQueueConsumer()

    def __init__(self, source_service, event_type, catalog=None, private=False, **kwargs):
        self.source_service = source_service
        self.event_type = event_type  # a routing key: a type, or "#" for all
        self.catalog = catalog
        self.private = private
        super().__init__(queue=None, **kwargs)

    @property
    def exchange_name(self):
        if self.private:
            return private_exchange_name(self.source_service)
        return events_exchange_name(self.source_service)

    def setup(self):
        config = self.container.config
        self.delays = retry_delays(config)
        self.names = QueueNames(self.container.service_name, self.method_name, len(self.delays))
        self.queue = Queue(self.names.main, exchange=kombu_exchange(self.exchange_name),
                           routing_key=self.event_type, durable=True, auto_delete=False)
        self.publisher = AmqpPublisher(config["AMQP_URI"])
        with self.queue_consumer.connection.channel() as channel:
            for name, arguments in self.names.declarations():
                Queue(name, durable=True, auto_delete=False,
                      queue_arguments=arguments)(channel).declare()
        super().setup()

    @property
    def consumer_name(self):
        return f"{self.container.service_name}.{self.method_name}"

    def handle_message(self, body, message):
        try:
            envelope = envelope_from_dict(body)
            if self.catalog is not None:
                self.catalog.validate_message(envelope, private=self.private)
        except (ValidationError, InvalidEventData, UnknownEventType) as error:
            log.error("unreadable message parked", extra={"consumer": self.consumer_name,
                                                          "error": str(error)})
            self._park(message, f"invalid message: {error}")
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = envelope.correlationid
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        context_data[ATTEMPT_CONTEXT] = attempt
        context_data[FINAL_CONTEXT] = attempt > len(self.delays)
        handle_result = lambda worker_ctx, result=None, exc_info=None: self.handle_result(  # noqa: E731
            message, worker_ctx, result, exc_info)
        self.container.spawn_worker(self, (envelope,), {}, context_data=context_data,
                                    handle_result=handle_result)

    def handle_message_processed(self, message, result=None, exc_info=None):
        outcome = "ok"
        if exc_info is not None and isinstance(exc_info[1], AlreadyHandled):
            outcome = "duplicate"
        elif exc_info is not None:
            error = "".join(traceback.format_exception_only(*exc_info[:2])).strip()
            attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
            try:
                if attempt <= len(self.delays):
                    self._republish(message, self.names.retries[attempt - 1],
                                    attempt + 1, error, expiration=self.delays[attempt - 1])
                    outcome = "retry"
                else:
                    self._park(message, error, attempt)
                    outcome = "dead_lettered"
            except Exception:  # noqa: BLE001 - broker trouble: give it back, never lose it
                log.exception("could not schedule a retry; requeueing")
                self.queue_consumer.requeue_message(message)
                return
        EVENTS_CONSUMED.labels(self.container.service_name, self.consumer_name, outcome).inc()
        self.queue_consumer.ack_message(message)

    def _park(self, message, error, attempt=1):
        self._republish(message, self.names.dlq, attempt, error)
        EVENTS_DEAD_LETTERED.labels(self.container.service_name, self.consumer_name).inc()

    def _republish(self, message, queue, attempt, error, expiration=None):
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt
        headers[ERROR_HEADER] = error[:1000]
        properties = {key: value for key, value in message.properties.items()
                      if key in ("message_id", "correlation_id", "type", "timestamp")}
        if expiration is not None:
            properties["expiration"] = expiration / 1000  # kombu takes seconds
        # The default exchange routes by queue name; confirms make sure it is stored
        # before the original is acked.
        self.publisher.publish(message.body, exchange="", routing_key=queue, headers=headers,
                               serializer=None, content_type=message.content_type,
                               content_encoding=message.content_encoding, mandatory=True,
                               **properties)


on_event = EventConsumer.decorator


class Delivery(DependencyProvider):
    """Which attempt this is, for handlers that record their own failures (e.g. an
    email's temporary failure) and need to know whether another try will follow."""

    def get_dependency(self, worker_ctx):
        context = worker_ctx.context_data
        return DeliveryInfo(int(context.get(ATTEMPT_CONTEXT, 1)),
                            bool(context.get(FINAL_CONTEXT, False)))


@dataclass(frozen=True)
class DeliveryInfo:
    attempt: int
    final: bool
