"""Declare the RabbitMQ topology before anything publishes, and bring the queues of
an older deployment to the shape of this one.

    python -m shared.ops.topology            # declare everything (migrating what differs)
    python -m shared.ops.topology check      # only list the queues that would be migrated

Each service's public ``<service>.events`` and ``<service>.private`` exchanges, its
public event stream ``<service>.events.stream`` (bound to the first), its
``<service>.requeue`` exchange (each of its handler queues bound by name: how a
consumer schedules a retry or parks a message, see ``shared.runtime.amqp``); for
every ``@on_event`` handler its queue, binding, retry queues, delay queues (a handler
with ``redelivery=True``) and dead-letter queue; for a service with ``shared.runtime.rpc.rpc``
entrypoints its RPC request queue ``rpc-<service>``. Every one a quorum queue with
the arguments of ``shared.runtime.queues``. The relay publishes with ``mandatory=False`` to
the public exchanges (outside subscribers come and go), so an internal consumer's
queue must exist before the first event is published, or that event would be
dropped.

Migration. A queue's type and arguments are fixed when it is created: the classic
queues of a deployment from before quorum queues (or queues made with another
``EVENT_DELIVERY_LIMIT``) cannot be declared as they are now — RabbitMQ refuses with
``PRECONDITION_FAILED``. Declaring finds such a queue by that refusal, and then, for
all the queues of its handler (a retry queue expiring into a queue being rebuilt
would lose its message):

1. moves the messages of each differing queue into a temporary quorum queue
   ``<queue>.migrating``, each one published there with a confirm before it is
   removed (a message's own TTL is kept aside in a header meanwhile, so that it does
   not expire there), and deletes the old queue (only if it is empty and unused);
2. declares every queue of the handler as it should be, and binds it again;
3. moves the messages back from ``<queue>.migrating`` in their order, then deletes it.

Each step can run again: a migration interrupted anywhere is finished by the next
run (a ``.migrating`` queue still holding messages is emptied into its queue). It
must run while the services and relays are stopped, as ``make run`` runs it: a queue
with consumers is left alone (the command fails and says so), and an event published
while its queue is rebuilt would not be routed to it — stopped relays publish nothing
(the outbox keeps their events). Bindings someone added by hand to our queues are not
restored; outside subscribers' own queues are not ours and are never touched.
"""
import argparse
import importlib
import inspect
import logging
from dataclasses import dataclass

import amqp
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from ..runtime.amqp import (connect, declare_exchange, events_exchange_name, private_exchange_name,
                            requeue_exchange_name, stream_name)
from ..runtime.config import SERVICES, service_config
from ..runtime.consumer import EventConsumer, queue_names
from ..runtime.queues import QUORUM, stream
from ..runtime.rpc import QuorumRpc, request_queue

log = logging.getLogger(__name__)

MIGRATING_SUFFIX = ".migrating"
EXPIRATION_HEADER = "x-asan-expiration"  # a message's TTL while it waits in .migrating


def service_class(service):
    """The nameko service class of ``services/<service>/service.py`` (the one whose ``name`` is
    ``service``); raises ``LookupError`` if there is none."""
    module = importlib.import_module(f"services.{service}.service")
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if getattr(obj, "name", None) == service and obj.__module__ == module.__name__:
            return obj
    raise LookupError(f"services.{service}.service has no class with name = {service!r}")


def _entrypoints(cls, kind):
    found = []
    for method_name, method in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, kind):
                found.append((method_name, entrypoint))
    return found


def event_consumers(cls):
    """(method name, EventConsumer) of every ``@on_event`` handler of a service class."""
    return _entrypoints(cls, EventConsumer)


def rpc_entrypoints(cls):
    """(method name, QuorumRpc) of every ``@rpc`` entrypoint of a service class: a
    service with any has an RPC request queue (and its broker user may consume it)."""
    return _entrypoints(cls, QuorumRpc)


def consumer_queues(services=SERVICES, config_of=service_config):
    """(QueueNames, consumer) of every handler of every service."""
    configs = {service: config_of(service) for service in services}
    return [(queue_names(service, method_name, consumer, configs[service]), consumer)
            for service in services
            for method_name, consumer in event_consumers(service_class(service))]


def all_consumer_queues(services=SERVICES, config_of=service_config):
    """QueueNames of every handler of every service."""
    return [names for names, _ in consumer_queues(services, config_of)]


@dataclass(frozen=True)
class QueueSpec:
    """A queue as it should be: its name, arguments, and binding (exchange, key)."""
    name: str
    arguments: dict
    binding: tuple = None


def _handler_groups(handlers):
    groups = []
    for names, consumer in handlers:
        declared = names.declarations()
        main_name, main_arguments = declared[0]
        groups.append([QueueSpec(main_name, main_arguments,
                                 (consumer.exchange_name, consumer.event_type))]
                      + [QueueSpec(name, arguments) for name, arguments in declared[1:]])
    return groups


def _rpc_groups(services, config_of):
    groups = []
    for service in services:
        if rpc_entrypoints(service_class(service)):
            queue = request_queue(service, config_of(service))
            groups.append([QueueSpec(queue.name, queue.queue_arguments,
                                     (queue.exchange.name, queue.routing_key))])
    return groups


def queue_groups(services=SERVICES, config_of=service_config):
    """The queues to declare, in groups that are migrated together: a handler's
    queues (its own queue first), or a service's RPC request queue."""
    return (_handler_groups(consumer_queues(services, config_of))
            + _rpc_groups(services, config_of))


class MigrationRefused(Exception):
    """A queue cannot be migrated safely now (it has consumers, or got messages while being
    migrated): stop the services and relays, then run ``python -m shared.ops.topology`` again."""

    pass


def _channel_call(conn, call):
    """``call(channel)`` on a channel of its own: a refusal closes only that channel.
    Returns its result, or the AMQP error it raised."""
    channel = conn.channel()
    try:
        return call(channel)
    except (amqp.exceptions.PreconditionFailed, amqp.exceptions.NotFound) as refused:
        return refused
    finally:
        if channel.is_open:
            channel.close()


def _declare_queue(channel, spec):
    return channel.queue_declare(spec.name, durable=True, auto_delete=False,
                                 arguments=spec.arguments)


def _exists(conn, name):
    found = _channel_call(conn, lambda channel: channel.queue_declare(name, passive=True))
    return not isinstance(found, amqp.exceptions.NotFound)


def differs(conn, spec):
    """Whether ``spec.name`` exists with another type or other arguments. (Declaring
    it again as it should be is how to tell: RabbitMQ refuses one that differs.)"""
    if not _exists(conn, spec.name):
        return False
    result = _channel_call(conn, lambda channel: _declare_queue(channel, spec))
    return isinstance(result, amqp.exceptions.PreconditionFailed)


def _move(channel, source, target, aside):
    """Move every message of ``source`` to ``target``, each published (confirmed: the
    connection confirms publishes) before it is removed; returns how many."""
    moved = 0
    while (message := channel.basic_get(source, no_ack=False)) is not None:
        properties = dict(message.properties)
        headers = dict(properties.pop("application_headers", None) or {})
        if aside and "expiration" in properties:
            headers[EXPIRATION_HEADER] = properties.pop("expiration")
        elif not aside and EXPIRATION_HEADER in headers:
            properties["expiration"] = headers.pop(EXPIRATION_HEADER)
        copy = amqp.Message(message.body, application_headers=headers, **properties)
        channel.basic_publish(copy, exchange="", routing_key=target, mandatory=True)
        channel.basic_ack(message.delivery_tag)
        moved += 1
    return moved


def _delete_drained(channel, name):
    """Delete a queue just emptied, unless something came in meanwhile. (RabbitMQ
    has no "if empty, if unused" delete for quorum queues: checked just before.)"""
    _, messages, consumers = channel.queue_declare(name, passive=True)
    if messages or consumers:
        raise MigrationRefused(f"queue {name} got {messages} message(s) and {consumers}"
                               " consumer(s) while it was being migrated: stop the services"
                               " and relays, then run python -m shared.ops.topology again")
    channel.queue_delete(name)


def _set_aside(conn, spec):
    """Step 1: the messages of a differing queue into ``<queue>.migrating``; the old
    queue deleted."""
    channel = conn.channel()
    try:
        _, _, consumers = channel.queue_declare(spec.name, passive=True)
        if consumers:
            raise MigrationRefused(
                f"queue {spec.name} must become a quorum queue (shared.runtime.queues) but has"
                f" {consumers} consumer(s): stop the services and relays, then run"
                " python -m shared.ops.topology again")
        temporary = spec.name + MIGRATING_SUFFIX
        channel.queue_declare(temporary, durable=True, auto_delete=False, arguments=QUORUM)
        moved = _move(channel, spec.name, temporary, aside=True)
        _delete_drained(channel, spec.name)
    finally:
        if channel.is_open:
            channel.close()
    log.debug("queue %s: %d message(s) set aside, old queue deleted", spec.name, moved)
    return moved


def _bring_back(conn, spec):
    """Step 3: the messages of ``<queue>.migrating`` (if there is one) back into the
    queue; the temporary queue deleted. Returns how many moved (None: none there)."""
    temporary = spec.name + MIGRATING_SUFFIX
    if not _exists(conn, temporary):
        return None
    channel = conn.channel()
    try:
        moved = _move(channel, temporary, spec.name, aside=False)
        _delete_drained(channel, temporary)
    finally:
        if channel.is_open:
            channel.close()
    return moved


def _declare_group(conn, channel, group):
    """Declare one group of queues, migrating those that differ; returns the names
    of the queues migrated."""
    migrating = [spec for spec in group if differs(conn, spec)]
    for spec in migrating:
        _set_aside(conn, spec)
    for spec in group:
        _declare_queue(channel, spec)
        if spec.binding:
            channel.queue_bind(spec.name, *spec.binding)
    for spec in group:
        moved = _bring_back(conn, spec)
        if moved is not None:
            log.info("queue %s migrated: now a %s queue, %d message(s) kept", spec.name,
                     spec.arguments.get("x-queue-type", "classic"), moved)
            migrating.append(spec)
    return sorted({spec.name for spec in migrating})


def declare_streams(conn, channel, services=SERVICES, config_of=service_config):
    """Each service's public event stream (issue 14 §2), bound to its events exchange
    with ``#``. A stream is never migrated (it cannot be read out and written back
    with its offsets and timestamps): one that exists with other arguments — the
    retention was changed in config — is kept as it is, and the log says to change
    its retention with a policy instead (docs/EVENTS.md, "Retention")."""
    for service in services:
        spec = QueueSpec(stream_name(service), stream(config_of(service)),
                         (events_exchange_name(service), "#"))
        if differs(conn, spec):
            log.warning("stream %s exists with other arguments than %s: kept as it is; set"
                        " its retention with a policy", spec.name, spec.arguments)
        else:
            _declare_queue(channel, spec)
        channel.queue_bind(spec.name, *spec.binding)


def declare(amqp_uri, services=SERVICES, config_of=service_config, migrated=None):
    """Declare everything, migrating queues that differ (see the module); returns the
    handlers' queue names. ``migrated``, a list, receives the names of the queues
    migrated."""
    handlers = consumer_queues(services, config_of)
    groups = _handler_groups(handlers) + _rpc_groups(services, config_of)
    conn = connect(amqp_uri, confirm_publish=True)
    try:
        channel = conn.channel()
        for service in services:
            declare_exchange(channel, events_exchange_name(service))
            declare_exchange(channel, private_exchange_name(service))
        declare_streams(conn, channel, services, config_of)
        for exchange in {spec.binding[0] for group in groups for spec in group if spec.binding}:
            declare_exchange(channel, exchange)  # the RPC exchange among them
        for group in groups:
            done = _declare_group(conn, channel, group)
            if migrated is not None:
                migrated.extend(done)
        for names, _ in handlers:  # each service's consumers put messages back through it
            exchange = requeue_exchange_name(names.service)
            channel.exchange_declare(exchange, "direct", durable=True, auto_delete=False)
            for name, _ in names.declarations():
                channel.queue_bind(name, exchange, name)
    finally:
        conn.close()
    return [names.main for names, _ in handlers]


def check(amqp_uri, services=SERVICES, config_of=service_config):
    """The queues that exist with another type or other arguments (to be migrated),
    and the ``.migrating`` queues an interrupted migration left. Changes nothing."""
    found = []
    conn = connect(amqp_uri)
    try:
        for group in queue_groups(services, config_of):
            for spec in group:
                if differs(conn, spec):
                    found.append(spec.name)
                if _exists(conn, spec.name + MIGRATING_SUFFIX):
                    found.append(spec.name + MIGRATING_SUFFIX)
    finally:
        conn.close()
    return found


def main(argv=None):
    """``python -m shared.ops.topology [declare|check] [SERVICE…]``: declares every exchange and
    queue (quorum queues, migrating queues of an older shape), or lists the queues that
    differ."""
    parser = argparse.ArgumentParser(
        description="Declare exchanges and queues, migrating queues of an older shape"
                    " (declare, the default), or list those queues (check).")
    parser.add_argument("words", nargs="*", metavar="[declare|check] SERVICE",
                        help=f"services (default: all of {', '.join(SERVICES)})")
    words = parser.parse_args(argv).words
    command = words.pop(0) if words and words[0] in ("declare", "check") else "declare"
    services = words or list(SERVICES)
    logging.basicConfig(level=logging.INFO, format="topology: %(message)s")
    amqp_uri = service_config(services[0])["AMQP_URI"]
    if command == "check":
        differing = check(amqp_uri, services)
        for name in differing:
            print(f"to migrate: {name}")
        print(f"topology: {len(differing)} queues to migrate")
        return
    migrated = []
    queues = declare(amqp_uri, services, migrated=migrated)
    print(f"topology: {len(services)} services, {len(queues)} consumer queues declared"
          f" (quorum queues), {len(migrated)} queues migrated")


if __name__ == "__main__":
    main()
