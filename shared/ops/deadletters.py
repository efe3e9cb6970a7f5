"""Operators' tool for parked messages (dead-letter queues).

    python -m shared.ops.deadletters list                 # every DLQ and how many it holds
    python -m shared.ops.deadletters show QUEUE           # the parked messages, with errors
    python -m shared.ops.deadletters replay QUEUE [-n N]  # back into the handler's queue

QUEUE is a handler's main queue (``notification.on_booking_email``) or its DLQ.
A replayed message starts again at attempt 1; the handler is idempotent, so a message
that had in fact been processed has no second effect.

A message lands in a DLQ in one of two ways: our consumer parks it after its retries
(headers ``x-asan-attempt`` and ``x-asan-error``), or the broker does, when it came
back unacked more than ``EVENT_DELIVERY_LIMIT`` times (its consumer kept dying on it;
``x-death`` reason ``delivery_limit``, shown as the error).

Only ``<queue>.dlq`` holds dead letters. The retry queues ``<queue>.retry.<n>`` and
the delay queues ``<queue>.delay.<ttl>`` (a redelivery a handler asked for, e.g. an
email after a 451) hold messages on their way back to the handler: not listed here.
"""
import argparse
import json

import amqp

from ..runtime.amqp import connect
from ..runtime.config import SERVICES, service_config
from ..runtime.consumer import ATTEMPT_HEADER, DUE_HEADER, ERROR_HEADER
from .topology import all_consumer_queues


def _main_queue(name):
    return name[:-len(".dlq")] if name.endswith(".dlq") else name


def depth(channel, queue):
    """How many messages ``queue`` holds now (a passive declare: raises
    ``amqp.exceptions.NotFound``, closing the channel, if the queue does not exist)."""
    _, count, _ = channel.queue_declare(queue, passive=True)
    return count


def dead_letter_queues(services=SERVICES):
    """The DLQ of every handler of ``services``."""
    return [names.dlq for names in all_consumer_queues(services)]


def depths(amqp_uri, queues):
    """(queue, messages) of each of ``queues``; one not declared yet counts as empty."""
    conn = connect(amqp_uri)
    found = []
    try:
        channel = conn.channel()
        for queue in queues:
            try:
                found.append((queue, depth(channel, queue)))
            except amqp.exceptions.NotFound:  # the broker closed the channel
                found.append((queue, 0))
                channel = conn.channel()
    finally:
        conn.close()
    return found


def list_dead_letters(amqp_uri, services=SERVICES):
    """(DLQ name, messages) of every handler."""
    return depths(amqp_uri, dead_letter_queues(services))


def _broker_reason(headers):
    """Why the broker dead-lettered a message (e.g. the queue's delivery limit)."""
    deaths = headers.get("x-death") or []
    if not deaths:
        return None
    return f"{deaths[0].get('reason')} in {deaths[0].get('queue')} (dead-lettered by RabbitMQ)"


def show(amqp_uri, queue, limit=20):
    """Peek at parked messages (they are put back, in the same order, after reading)."""
    dlq = _main_queue(queue) + ".dlq"
    conn = connect(amqp_uri)
    shown = []
    try:
        channel = conn.channel()
        for _ in range(limit):
            message = channel.basic_get(dlq, no_ack=False)
            if message is None:
                break
            headers = message.properties.get("application_headers") or {}
            shown.append({"message_id": message.properties.get("message_id"),
                          "type": message.properties.get("type"),
                          "attempts": headers.get(ATTEMPT_HEADER),
                          "error": headers.get(ERROR_HEADER) or _broker_reason(headers)})
        channel.close()  # unacked messages go back to the queue
    finally:
        conn.close()
    return shown


def replay(amqp_uri, queue, limit=None):
    """Move parked messages back to the handler's queue; returns how many moved.
    Each is published with a confirm before it is removed from the DLQ."""
    main = _main_queue(queue)
    dlq = main + ".dlq"
    conn = connect(amqp_uri, confirm_publish=True)  # publish returns once confirmed
    moved = 0
    try:
        channel = conn.channel()
        while limit is None or moved < limit:
            message = channel.basic_get(dlq, no_ack=False)
            if message is None:
                break
            properties = dict(message.properties)
            headers = dict(properties.pop("application_headers", None) or {})
            headers.pop(ATTEMPT_HEADER, None)
            headers.pop(DUE_HEADER, None)  # now, not when a redelivery was once due
            headers["x-asan-replayed"] = True
            copy = amqp.Message(message.body, application_headers=headers, **properties)
            channel.basic_publish(copy, exchange="", routing_key=main, mandatory=True)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    finally:
        conn.close()
    return moved


def main(argv=None):
    """``python -m shared.ops.deadletters list | show QUEUE [-n 20] | replay QUEUE [-n N]``: lists
    the DLQs with their depth, prints parked messages as JSON, or replays them into their
    handler's queue."""
    parser = argparse.ArgumentParser(description="List, show and replay dead letters.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    show_parser = sub.add_parser("show")
    show_parser.add_argument("queue")
    show_parser.add_argument("-n", type=int, default=20)
    replay_parser = sub.add_parser("replay")
    replay_parser.add_argument("queue")
    replay_parser.add_argument("-n", type=int, default=None)
    args = parser.parse_args(argv)
    amqp_uri = service_config(SERVICES[0])["AMQP_URI"]
    if args.command == "list":
        for name, count in list_dead_letters(amqp_uri):
            print(f"{count:8d}  {name}")
    elif args.command == "show":
        print(json.dumps(show(amqp_uri, args.queue, args.n), indent=2, ensure_ascii=False))
    else:
        print(f"replayed {replay(amqp_uri, args.queue, args.n)} messages into "
              f"{_main_queue(args.queue)}")


if __name__ == "__main__":
    main()
