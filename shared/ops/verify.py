"""Check the signatures of events, offline (issue 14 §4).

    python -m shared.ops.verify --jwks booking-jwks.json events.jsonl
    some-consumer | python -m shared.ops.verify --jwks booking.json --jwks kiosk_gateway.json -

Reads events, one JSON text per line, exactly as they were delivered (the message
body: the ``signature`` member is in it, last; an event parsed and written again —
by ``json.dumps`` or a CloudEvents SDK — has other bytes and fails), and checks each
against the public keys of the JWKS files given (``GET /.well-known/jwks.json`` of
each service, saved; several are merged). Each event must be signed by a key of the
service its ``source`` names, whatever the files hold (``shared.ops.signing``). Prints one
line per event — ``ok <id> <kid>`` or ``FAILED <line> <why>`` — and exits 1 if any
failed: a changed byte, a missing signature, a key that is unknown, revoked or
another service's.
"""
import argparse
import json
import sys

from ..runtime.signatures import InvalidSignature, verify_event


def verify_lines(lines, jwks):
    """[(line number, event id or None, kid or None, failure or None)]."""
    results = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            kid = verify_event(line, jwks)
            event_id = json.loads(line).get("id")
            results.append((number, event_id, kid, None))
        except (InvalidSignature, ValueError) as failure:
            results.append((number, None, None, str(failure)))
    return results


def main(argv=None, stdin=sys.stdin, stdout=sys.stdout):
    """``python -m shared.ops.verify --jwks FILE [--jwks FILE…] [EVENTS|-]``: prints ``ok <id>
    <kid>`` or ``FAILED line <n>: <why>`` per event; returns 1 if any failed or there
    were none, else 0 (JWS, RFC 7515)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jwks", required=True, action="append",
                        help="a service's JWKS file (repeat for several services)")
    parser.add_argument("events", nargs="?", default="-", help="a file, or - for stdin")
    args = parser.parse_args(argv)
    jwks = {"keys": []}
    for path in args.jwks:
        with open(path, encoding="utf-8") as handle:
            jwks["keys"].extend(json.load(handle).get("keys", []))
    source = stdin if args.events == "-" else open(args.events, encoding="utf-8")
    with source:
        results = verify_lines(source, jwks)
    for number, event_id, kid, failure in results:
        print(f"ok {event_id} {kid}" if failure is None else f"FAILED line {number}: {failure}",
              file=stdout)
    return 1 if any(failure for *_, failure in results) or not results else 0


if __name__ == "__main__":
    sys.exit(main())
