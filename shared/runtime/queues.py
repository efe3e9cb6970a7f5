"""The arguments of every queue our code consumes from: all of them quorum queues.

Why quorum queues: a classic queue lives on one broker node, and its messages die or
wait with that node. A quorum queue is replicated by Raft on the nodes of the cluster
(every node, up to five, by RabbitMQ's default): a message is confirmed to its
publisher once a majority stored it, and a queue keeps serving, with every confirmed
message, while a majority of its nodes is up (two of three: RabbitMQ puts a replica
on every node of the cluster when the queue is declared). On a single node (the local
stack) it behaves like a durable queue.

Why here, and only here: RabbitMQ refuses (``PRECONDITION_FAILED``) to declare a queue
again with other arguments than it was created with, and each queue is declared in
several places — by ``shared.ops.topology`` before anything publishes, by the consumer
itself on every (re)connection (nameko's and kombu's way), by the dead-letter tool —
so each kind of queue gets its arguments from one function below. A queue's type
and arguments cannot be changed in place: ``python -m shared.ops.topology`` moves the
messages of a queue that differs (e.g. a classic queue of an older deployment) into
the new one (see its module).

What each kind of queue is given:

* a handler's queue ``<service>.<method>``: ``x-delivery-limit``
  (``EVENT_DELIVERY_LIMIT``). Our consumer acks every
  message it handled, a failed one after republishing it to a retry queue; a message
  comes back only when its consumer died or gave it back unacked. One that came back
  that many times (a *poison* message: it crashes the process, or a consumer keeps
  refusing it) is dead-lettered by the broker into the handler's ``.dlq`` — with an
  ``x-death`` header whose reason is ``delivery_limit`` — instead of cycling forever;
* a retry queue ``.retry.<n>`` (per-message TTL) and a delay queue ``.delay.<ttl>``
  (queue TTL): dead-lettered back into the handler's queue when the TTL expires;
* a dead-letter queue ``.dlq``: nothing but its type — messages stay until an
  operator replays them;
* nameko's RPC request queue ``rpc-<service>``: a delivery limit too, without a
  dead-letter queue: a request that kept crashing its service is dropped, since its
  caller has long given up (``RPC_TIMEOUT_SECONDS``) and answered 503.

Dead-lettering is ``at-least-once`` (``x-dead-letter-strategy``, RabbitMQ 3.10+): the
broker keeps a dead-lettered message until the target queue confirmed it, so a retry
that expires while the target's leader is being elected waits instead of being
dropped (the default, ``at-most-once``, would drop it). RabbitMQ takes at-least-once
only with ``x-overflow: reject-publish`` (it silently falls back otherwise); no queue
has a length limit, so that setting never refuses anything.
"""
from .settings import setting


QUORUM = {"x-queue-type": "quorum"}


def delivery_limit(config):
    """How often a message may come back to a queue unacked before the broker parks
    (or, for RPC, drops) it: ``EVENT_DELIVERY_LIMIT``."""
    return setting(config, "EVENT_DELIVERY_LIMIT", int)


def _dead_letter_into(queue):
    """Dead-letter into ``queue`` through its service's requeue exchange (queue names
    are ``<service>.<handler>…``), not the default exchange: RabbitMQ checks that
    whoever declares a queue may write to its dead-letter exchange, and a right to
    write to the default exchange is a right to publish into every queue (issue 14)."""
    from .amqp import requeue_exchange_name

    return {"x-dead-letter-exchange": requeue_exchange_name(queue.split(".", 1)[0]),
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def handler_queue(dlq, limit):
    """A handler's own queue: poison messages go to ``dlq`` after ``limit`` returns."""
    return {**QUORUM, **_dead_letter_into(dlq), "x-delivery-limit": limit}


def retry_queue(main):
    """A retry queue (each message carries its TTL): expired messages go to ``main``."""
    return {**QUORUM, **_dead_letter_into(main)}


def delay_queue(main, ttl_ms):
    """A delay queue: every message waits ``ttl_ms``, then goes to ``main``."""
    return {**QUORUM, **_dead_letter_into(main), "x-message-ttl": ttl_ms}


def parking_queue():
    """A dead-letter queue: kept until replayed."""
    return dict(QUORUM)


# A year of events, up to 20 GB per service, kept for subscribers to catch up from
# (the event store, not the stream, is the record: a subscriber that needs older
# events asks for a replay). Segments of 100 MB: retention drops whole segments.
STREAM_SEGMENT_BYTES = 100_000_000


def stream(config):
    """A service's public event stream: retention by age (``EVENT_STREAM_MAX_AGE``,
    RabbitMQ's units Y M D h m s, e.g. ``365D``) and by size
    (``EVENT_STREAM_MAX_BYTES``), whichever is reached first drops the oldest segment.
    Fixed when the stream is created: change an existing stream's retention with a
    policy (docs/EVENTS.md, "Retention")."""
    return {"x-queue-type": "stream",
            "x-max-age": setting(config, "EVENT_STREAM_MAX_AGE", str),
            "x-max-length-bytes": setting(config, "EVENT_STREAM_MAX_BYTES", int),
            "x-stream-max-segment-size-bytes": STREAM_SEGMENT_BYTES}


def rpc_queue(limit):
    """nameko's RPC request queue of a service."""
    return {**QUORUM, "x-delivery-limit": limit}
