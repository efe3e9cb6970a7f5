"""RPC between services with a deadline (D-2: "RPC where a caller needs an answer").

nameko's ``RpcProxy`` waits for its reply forever: with the callee paused, a kiosk
activation hung for as long as the kiosk waited, holding a worker and a database
transaction. :class:`RpcProxy` here is the same proxy with a deadline on every
call (``RPC_TIMEOUT_SECONDS``, default 5): a callee that does not answer in time,
is not running at all, or a broker that cannot take the call, is answered with
:class:`shared.vocabulary.errors.Unavailable` — a 503 with a bilingual "try again" and
``Retry-After`` — within seconds.

    booking = RpcProxy("booking")           # in a service class
    self.booking.activate(order_code, …)    # raises Unavailable after the deadline

A call that times out may still be carried out by the callee later; callers keep
their commands idempotent (the kiosk gateway asks booking again on a repeated
request and gets "already activated" with the same ticket).

The callee's side is :func:`rpc` here, not nameko's: the same entrypoint, whose
request queue ``rpc-<service>`` is a quorum queue (``shared.runtime.queues``) — replicated,
so a broker node dying takes no request with it — and is declared by
``shared.ops.topology`` with the same arguments. The caller's reply queue stays a
classic one, of this process alone (exclusive: deleted with the connection that
made it, and made again on the node the caller reconnects to); a reply lost with a
broker node is a call that timed out, answered 503 by the deadline above.
"""
import logging
import uuid

import eventlet
from kombu import Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService
from nameko.rpc import (RPC_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TEMPLATE, MethodProxy,
                        ReplyListener, Rpc, RpcConsumer, ServiceProxy, get_rpc_exchange)
from nameko.rpc import RpcProxy as NamekoRpcProxy

from . import queues
from .consumer import BrokerSafeQueueConsumer
from ..vocabulary.errors import Text, Unavailable
from .settings import setting

log = logging.getLogger(__name__)
NOT_ANSWERING = Text("unavailable",
                     "Əlaqəli xidmət vaxtında cavab vermədi. Zəhmət olmasa bir neçə saniyədən"
                     " sonra yenidən cəhd edin.",
                     "A service we depend on did not answer in time. Please try again in a"
                     " few seconds.")


def request_queue(service, config):
    """The RPC request queue of ``service`` (as declared by the callee and topology)."""
    return Queue(RPC_QUEUE_TEMPLATE.format(service), exchange=get_rpc_exchange(config),
                 routing_key=f"{service}.*", durable=True, auto_delete=False,
                 queue_arguments=queues.rpc_queue(queues.delivery_limit(config)))


class QuorumRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, its request queue a quorum queue, its acks surviving a
    broker connection that dies under them."""

    queue_consumer = BrokerSafeQueueConsumer()

    def setup(self):
        """Consumes the service's request queue ``rpc-<service>`` declared as a quorum queue
        (see :func:`request_queue`)."""
        if self.queue is None:
            self.queue = request_queue(self.container.service_name, self.container.config)
            self.queue_consumer.register_provider(self)
            self._registered = True


class QuorumRpc(Rpc):
    """``@rpc``: nameko's RPC entrypoint, consuming from a quorum request queue (D-2)."""

    rpc_consumer = QuorumRpcConsumer()


rpc = QuorumRpc.decorator


class ExclusiveReplyListener(ReplyListener):
    """nameko's reply listener, its reply queue exclusive to the connection: nameko's
    own is durable, and a durable classic queue whose node died cannot be declared
    again until that node is back, so the caller would not reconnect at all."""

    def setup(self):
        """Declares this process's reply queue: non-durable, exclusive to the connection,
        deleted with it."""
        reply_queue_uuid = uuid.uuid4()
        self.routing_key = str(reply_queue_uuid)
        self.queue = Queue(
            RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_queue_uuid),
            exchange=get_rpc_exchange(self.container.config), routing_key=self.routing_key,
            durable=False, exclusive=True, auto_delete=True)
        self.queue_consumer.register_provider(self)


class RpcProxy(NamekoRpcProxy):
    """nameko's ``RpcProxy`` whose calls give up after ``RPC_TIMEOUT_SECONDS``."""

    rpc_reply_listener = ExclusiveReplyListener()

    def setup(self):
        """Reads ``RPC_TIMEOUT_SECONDS``, the deadline of every call (a caller's
        ``config.yaml`` declares it)."""
        self.timeout = setting(self.container.config, "RPC_TIMEOUT_SECONDS", float)
        super().setup()

    def get_dependency(self, worker_ctx):
        """A proxy of ``target_service`` whose calls raise
        :class:`shared.vocabulary.errors.Unavailable` (503) after the deadline or when the callee or
        broker is unreachable."""
        return _ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                             self.timeout, **self.options)


class _ServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout

    def __getattr__(self, name):
        return _MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                            self.timeout, **self.options)


class _MethodProxy(MethodProxy):
    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout,
                 **options):
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)
        self.timeout = timeout

    def __call__(self, *args, **kwargs):
        try:
            reply = self._call(*args, **kwargs)
        except (UnknownService, KombuOperationalError, ConnectionError) as error:
            log.warning("rpc to %s.%s not sent: %s", self.service_name, self.method_name,
                        type(error).__name__)
            raise Unavailable(NOT_ANSWERING) from None
        try:
            with eventlet.Timeout(self.timeout):
                return reply.result()
        except eventlet.Timeout:
            self._forget(reply)
            log.warning("rpc to %s.%s timed out after %.1f s", self.service_name,
                        self.method_name, self.timeout)
            raise Unavailable(NOT_ANSWERING) from None

    def _forget(self, reply):
        """Drop the reply we no longer wait for (a late one is then ignored)."""
        pending = self.reply_listener._reply_events
        for correlation_id, event in list(pending.items()):
            if event is reply.reply_event:
                pending.pop(correlation_id, None)
