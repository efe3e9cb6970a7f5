"""Declare the RabbitMQ topology before anything publishes.

    python -m shared.topology            # every service in shared.config.SERVICES

Each service's public ``<service>.events`` and ``<service>.private`` exchanges, and
for every ``@on_event`` handler its durable queue, binding, retry queues, delay queues
(a handler with ``redelivery=True``) and dead-letter queue. The relay publishes with
``mandatory=False`` to the public exchanges (outside subscribers come and go), so an
internal consumer's queue must exist before the first event is published, or that
event would be dropped.
"""
import argparse
import importlib
import inspect
import logging

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from .amqp import connect, declare_exchange, events_exchange_name, private_exchange_name
from .config import SERVICES, service_config
from .consumer import EventConsumer, queue_names

log = logging.getLogger(__name__)


def service_class(service):
    module = importlib.import_module(f"services.{service}.service")
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if getattr(obj, "name", None) == service and obj.__module__ == module.__name__:
            return obj
    raise LookupError(f"services.{service}.service has no class with name = {service!r}")


def event_consumers(cls):
    """(method name, EventConsumer) of every ``@on_event`` handler of a service class."""
    found = []
    for method_name, method in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, EventConsumer):
                found.append((method_name, entrypoint))
    return found


def declare_consumer(channel, names, consumer):
    declare_exchange(channel, consumer.exchange_name)
    channel.queue_declare(names.main, durable=True, auto_delete=False)
    channel.queue_bind(names.main, consumer.exchange_name, consumer.event_type)
    for name, arguments in names.declarations():
        channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments)
    return names


def consumer_queues(services=SERVICES, config_of=service_config):
    """(QueueNames, consumer) of every handler of every service."""
    configs = {service: config_of(service) for service in services}
    return [(queue_names(service, method_name, consumer, configs[service]), consumer)
            for service in services
            for method_name, consumer in event_consumers(service_class(service))]


def all_consumer_queues(services=SERVICES, config_of=service_config):
    """QueueNames of every handler of every service."""
    return [names for names, _ in consumer_queues(services, config_of)]


def declare(amqp_uri, services=SERVICES, config_of=service_config):
    """Declare everything; returns the main queue names declared."""
    declared = []
    conn = connect(amqp_uri)
    try:
        channel = conn.channel()
        for service in services:
            declare_exchange(channel, events_exchange_name(service))
            declare_exchange(channel, private_exchange_name(service))
        for names, consumer in consumer_queues(services, config_of):
            declare_consumer(channel, names, consumer)
            declared.append(names.main)
    finally:
        conn.close()
    return declared


def main(argv=None):
    parser = argparse.ArgumentParser(description="Declare exchanges and consumer queues.")
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    args = parser.parse_args(argv)
    amqp_uri = service_config(args.services[0])["AMQP_URI"]
    queues = declare(amqp_uri, args.services)
    print(f"topology: {len(args.services)} services, {len(queues)} consumer queues declared")


if __name__ == "__main__":
    main()
