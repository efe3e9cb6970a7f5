"""Catch up on a service's public events from any point, then follow the live ones
(issue 14 §2; docs/EVENTS.md, "Catching up"). Needs only pika; a ministry runs it
with the account ``python -m shared.ops.subscribers add`` printed:

    python examples/catch_up_subscriber.py --uri "$AMQP_URI" --stream booking.events.stream \
        [--from first|last|next|OFFSET|2026-11-30T09:00:00+04:00] [--state state.json]

Each event is printed as one JSON line, exactly as delivered (its signature intact:
pipe them to ``python -m shared.ops.verify --jwks booking.jwks.json``). With ``--state``,
the stream offset and the ``sequence`` of the last event handled are kept in that
file after each event, and a restart goes on from the next one: nothing is missed,
and a copy of an event already handled (a relay that crashed re-publishes its last
batch) is recognised by its ``sequence`` and skipped. A jump in ``sequence`` would
mean events were lost (the stream's retention dropped them before you read them):
the subscriber stops and says so, rather than carry on with a hole.

``sequence`` is the CloudEvents Sequence extension, a string of 20 digits
(``"00000000000000000042"``) since contract 2.0.0; events of contract 1 carry the
number as a JSON integer, and a stream keeps those for its retention: this reads both
(docs/EVENTS.md, "Contract versions").
"""
import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pika


def stream_events(uri, stream, offset="first", prefetch=500, idle_seconds=None):
    """Yields ``(stream offset, event body)`` from ``offset`` on, live ones included.
    ``offset``: "first", "last", "next", an int, or an aware datetime. Streams
    need a prefetch (RabbitMQ refuses unlimited consumers on a stream) and acks."""
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=prefetch)
        for method, properties, body in channel.consume(
                stream, arguments={"x-stream-offset": offset}, inactivity_timeout=idle_seconds):
            if method is None:
                raise TimeoutError(f"no event for {idle_seconds} s")
            yield properties.headers["x-stream-offset"], body
            channel.basic_ack(method.delivery_tag)
    finally:
        try:
            connection.close()
        except pika.exceptions.AMQPError:
            # pika gives back the messages it holds with basic.nack, which a stream
            # refuses by closing the connection: it is closing anyway, and a stream
            # keeps no per-consumer state to undo.
            pass


def sequence_number(event):
    """The number (int >= 1) of ``event``'s ``sequence``: 20 decimal digits (contract 2) or a
    JSON integer (contract 1); ``None`` when it has none of either form."""
    value = event.get("sequence") if isinstance(event, dict) else None
    if isinstance(value, str) and len(value) == 20 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def follow(uri, stream, state, start="first", verify=None, **options):
    """Yields ``(event, body)`` (the event as a dict, and its bytes as delivered) once
    each, in ``sequence`` order, from where ``state`` (a dict with ``offset`` and
    ``sequence``, the number of the last event handled, updated before each yield) left
    off.
    ``verify(body)``, if given, raises unless the event is genuinely ours: it runs
    *before* its ``sequence`` is trusted, so nothing forged can stand in for a real
    event, and on the bytes as delivered, since an event parsed and written again
    (``json.dumps``, a CloudEvents SDK) is other bytes, which no signature covers. A
    message that is not a numbered event stops the subscriber."""
    offset = state["offset"] + 1 if "offset" in state else start
    for position, body in stream_events(uri, stream, offset, **options):
        if verify is not None:
            verify(body)
        event = json.loads(body)
        number = sequence_number(event)
        if number is None:
            raise RuntimeError(f"offset {position} holds no numbered event: not ours")
        last = state.get("sequence")
        if last is not None and number <= last:
            state["offset"] = position  # a copy of one already handled
            continue
        if last is not None and number != last + 1:
            raise RuntimeError(f"events {last + 1}…{number - 1} are missing")
        state.update(offset=position, sequence=number)
        yield event, body


def _start(text):
    if text in ("first", "last", "next"):
        return text
    return int(text) if text.isascii() and text.isdigit() else datetime.fromisoformat(text)


def main(argv=None):
    """The command (usage: the module docstring): prints every event of ``--stream``, one
    JSON line each, keeping its place in ``--state`` and, with ``--jwks``, verifying each
    signature first (D-3). Stops with ``RuntimeError`` on a gap in ``sequence`` or a
    message that is not a numbered event; with ``InvalidSignature`` on a forged one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True, help="amqp(s):// URI of your account")
    parser.add_argument("--stream", required=True, help="e.g. booking.events.stream")
    parser.add_argument("--from", dest="start", default="first",
                        help="first, last, next, an offset, or an ISO time with its zone")
    parser.add_argument("--state", type=Path, help="file keeping the last offset and sequence")
    parser.add_argument("--jwks", type=Path, help="the service's JWKS: verify every event"
                        " before trusting it (uses this repository's shared.ops.signing)")
    args = parser.parse_args(argv)
    state = json.loads(args.state.read_text()) if args.state and args.state.exists() else {}
    verify = None
    if args.jwks:
        from shared.runtime.signatures import verify_event

        jwks = json.loads(args.jwks.read_text())
        verify = lambda body: verify_event(body, jwks)  # noqa: E731
    for _, body in follow(args.uri, args.stream, state, _start(args.start), verify=verify):
        sys.stdout.write(body.decode("utf-8") + "\n")
        sys.stdout.flush()
        if args.state:  # replaced whole or not at all: a kill never leaves it half-written
            partial = args.state.with_suffix(".partial")
            partial.write_text(json.dumps(state))
            os.replace(partial, args.state)


if __name__ == "__main__":
    main()
