"""Another government system's subscriber (D-3), written as a ministry would write it:
from what it was handed — its broker account (``python -m shared.ops.subscribers add``),
the local CA's certificate, the published contract (docs/asyncapi.yaml) and the
service's JWKS URL — with pika, jsonschema, cryptography and PyYAML, and none of our
code: run as a program, it refuses to import ``shared``, ``services``, ``examples``
or ``tests``.

    python ministry_subscriber.py ACCOUNT.json CA.pem ASYNCAPI.yaml JWKS_URL SINCE SUBJECT TYPE...

It reads ``booking.events.stream`` over AMQPS from the time ``SINCE`` (ISO 8601),
checks every event it reads — its signature (Ed25519 JWS, detached payload, by the
JWKS), its place in the gap-free ``sequence``, its envelope and ``data`` against the
AsyncAPI document — until the events of ``SUBJECT`` include every ``TYPE``; then
prints one JSON object: ``subject_events`` (type, sequence and key id of each event of
``SUBJECT``, in order), ``checked`` (events read and checked), ``sequences`` (first
and last). Any check that fails ends it with an exception (exit status 1).
"""
import base64
import importlib.abc
import json
import ssl
import sys
import time
import urllib.request
from datetime import datetime

OURS = {"shared", "services", "examples", "tests"}
STREAM = "booking.events.stream"


class RefuseOurCode(importlib.abc.MetaPathFinder):
    """Makes any import of the platform's own packages fail."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in OURS:
            raise ImportError(f"a subscriber runs none of our code: {name}")
        return None


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(body, jwks):
    """The key id that signed ``body`` (the event as delivered, bytes); raises unless
    its signature holds (docs/EVENTS.md, "Verifying that an event is ours")."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    cut = body.rindex(b',"signature":"')
    payload = body[:cut] + b"}"
    token = json.loads(body)["signature"]
    header, detached, signature = token.split(".")
    if detached:
        raise ValueError("the payload is not detached")
    protected = json.loads(b64url(header))
    [key] = [k for k in jwks["keys"] if k["kid"] == protected["kid"]]
    # EdDSA (RFC 8037) with an Ed25519 key; the key says the name its events carry
    if (key.get("kty"), key.get("crv")) != ("OKP", "Ed25519") or \
            protected.get("alg") not in ("EdDSA", "Ed25519") or \
            protected.get("alg") != key.get("alg", protected.get("alg")):
        raise ValueError(f"unexpected algorithm {protected.get('alg')!r}")
    signed = f"{header}.".encode() + base64.urlsafe_b64encode(payload).rstrip(b"=")
    Ed25519PublicKey.from_public_bytes(b64url(key["x"])).verify(b64url(signature), signed)
    return protected["kid"]


def validator(asyncapi, event_type):
    """A JSON Schema validator of one booking event, by the AsyncAPI document."""
    import jsonschema

    schema = {"$ref": f"#/components/messages/booking.{event_type}/payload",
              "components": asyncapi["components"]}
    return jsonschema.Draft7Validator(schema)


def follow(account, ca_file, asyncapi, jwks, since, subject, types, timeout=120):
    import pika

    context = ssl.create_default_context(cafile=ca_file)
    parameters = pika.URLParameters(account["amqps_uri"])
    parameters.ssl_options = pika.SSLOptions(context, parameters.host)
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=500)  # a stream needs a prefetch
    seen, checked, first, last = [], 0, None, None
    deadline = time.monotonic() + timeout
    for method, properties, body in channel.consume(
            STREAM, arguments={"x-stream-offset": since}, inactivity_timeout=1):
        if method is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"saw {seen} of {subject} in {timeout} s")
            continue
        event = json.loads(body)
        kid = verify(body, jwks)  # before its sequence is trusted
        # CloudEvents' Sequence extension: a string that sorts as the number it spells
        number = int(event["sequence"])
        if last is not None and number <= last:
            channel.basic_ack(method.delivery_tag)  # a copy of one handled
            continue
        if last is not None and number != last + 1:
            raise ValueError(f"missed {last + 1}..{number - 1}")
        if properties.headers["sequence"] != number:
            raise ValueError("the sequence header and the event disagree")
        validator(asyncapi, event["type"]).validate(event)
        first = number if first is None else first
        last, checked = number, checked + 1
        if event["subject"] == subject:
            seen.append({"type": event["type"], "sequence": number, "kid": kid})
        channel.basic_ack(method.delivery_tag)
        if set(types) <= {e["type"] for e in seen}:
            break
    connection.close()
    return {"subject_events": seen, "checked": checked, "sequences": [first, last]}


def main(argv):
    sys.meta_path.insert(0, RefuseOurCode())
    import yaml

    account_file, ca_file, asyncapi_file, jwks_url, since, subject, *types = argv
    with open(account_file, encoding="utf-8") as handle:
        account = json.load(handle)
    with open(asyncapi_file, encoding="utf-8") as handle:
        asyncapi = yaml.safe_load(handle)
    with urllib.request.urlopen(jwks_url, timeout=10) as answer:
        jwks = json.load(answer)
    result = follow(account, ca_file, asyncapi, jwks, datetime.fromisoformat(since), subject,
                    types)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
