"""Verify our events' signatures with the JOSE library you already use — PyJWT,
jwcrypto, or ``cryptography`` alone — without this repository's code (D-3;
docs/EVENTS.md, "Verifying that an event is ours"). Node's ``jose``: the same in
``verify_event.mjs`` beside this file.

    python examples/verify_with_jose_libraries.py booking.jwks.json [more.jwks.json…] \\
        < events.jsonl            # one event per line, exactly as delivered

Each function takes the event's bytes **as delivered** (the AMQP message body) and
the service's JWKS (``GET /.well-known/jwks.json``, a dict), and returns the event
(a dict, read from the bytes that were verified) or raises. Verify before you parse:
an event read and written again — with ``json.dumps`` or a CloudEvents SDK, which
reorders members and writes ``+00:00`` as ``Z`` — is other bytes, and no signature
holds over them (:func:`read_with_cloudevents_sdk` shows the order).

Every function also checks that the key belongs to the service the event claims:
a ``kid`` is ``<service>-…`` and ``source`` is ``/asan/<service>``. Without that, a
JWKS holding several services' keys would let one service vouch for another's events.

Events carry ``"alg": "EdDSA"`` (RFC 8037), which every library here verifies; the
events of a key whose JWKS entry says ``"alg": "Ed25519"`` (RFC 9864's name for the
same signature, used by keys made before) verify the same way in jwcrypto, Node's
``jose`` and ``cryptography``; PyJWT 2.15 knows only ``EdDSA`` (docs/EVENTS.md).
"""
import base64
import json
import sys

MEMBER = b',"signature":"'


def signed_parts(body):
    """(signed payload, compact JWS) of an event's bytes: the signature is the last
    member, a JWS whose payload part is left out (RFC 7515 appendix F); the payload is
    the event without it, and the JWS is made whole by putting it back, base64url."""
    at = body.rfind(MEMBER)
    if at < 0 or not body.rstrip().endswith(b'"}'):
        raise ValueError("no signature member at the end: not the bytes as delivered")
    payload = body[:at] + b"}"
    header, _, signature = body[at + len(MEMBER):].rstrip()[:-2].decode().split(".")
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return payload, f"{header}.{encoded}.{signature}"


def producer_checked(payload, kid):
    """The event of ``payload`` (verified bytes) if ``kid`` is a key of the service its
    ``source`` names; ``ValueError`` if not."""
    event = json.loads(payload)
    if kid.split("-")[0] != event["source"].removeprefix("/asan/"):
        raise ValueError(f"key {kid} is not {event['source']}'s")
    return event


def verify_with_pyjwt(body, jwks):
    """PyJWT (``pip install pyjwt[crypto]``): the event, or ``jwt.PyJWTError``
    (``KeyError`` for a ``kid`` the JWKS lacks)."""
    import jwt

    payload, token = signed_parts(body)
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    verified = jwt.PyJWS().decode(token, key, algorithms=["EdDSA"])
    return producer_checked(verified, kid)


def verify_with_jwcrypto(body, jwks):
    """jwcrypto: the event, or ``jwcrypto.common.JWException`` (``JWKeyNotFound``
    when no key of the set verifies it)."""
    from jwcrypto import jwk, jws

    payload, token = signed_parts(body)
    signed = jws.JWS()
    signed.allowed_algs = ["EdDSA", "Ed25519"]
    signed.deserialize(token)
    signed.verify(jwk.JWKSet.from_json(json.dumps(jwks)))  # the key named by "kid"
    return producer_checked(signed.payload, signed.jose_header["kid"])


def verify_with_cryptography(body, jwks):
    """``cryptography`` alone (a JWS with EdDSA is an Ed25519 signature of
    ``header.payload``): the event, or ``cryptography.exceptions.InvalidSignature``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def unb64(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    payload, token = signed_parts(body)
    header, encoded, signature = token.split(".")
    protected = json.loads(unb64(header))
    if protected["alg"] not in ("EdDSA", "Ed25519"):
        raise ValueError(f"not an Ed25519 signature: {protected['alg']}")
    key = next(k for k in jwks["keys"] if k["kid"] == protected["kid"] and k["crv"] == "Ed25519")
    public = Ed25519PublicKey.from_public_bytes(unb64(key["x"]))
    public.verify(unb64(signature), f"{header}.{encoded}".encode())
    return producer_checked(payload, protected["kid"])


def read_with_cloudevents_sdk(body, jwks):
    """The event as the CloudEvents SDK's object (``pip install cloudevents``),
    verified first on the bytes as delivered; what the SDK writes back
    (``JSONFormat().write(event)``) is other bytes, and verifies no more."""
    from cloudevents.core.formats.json import JSONFormat

    verify_with_pyjwt(body, jwks)
    return JSONFormat().read(None, body)


def main(argv=None, stdin=sys.stdin.buffer, stdout=sys.stdout):
    """Verifies each line of ``stdin`` with each library against the JWKS files named
    in ``argv``; prints ``ok <id> <library>`` or ``FAILED line <n>: <library>: <why>`` and
    returns 1 if any failed, else 0."""
    jwks = {"keys": []}
    for path in argv if argv is not None else sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            jwks["keys"].extend(json.load(handle)["keys"])
    failed = False
    for number, body in enumerate(stdin, start=1):
        if not body.strip():
            continue
        for verify in (verify_with_pyjwt, verify_with_jwcrypto, verify_with_cryptography):
            try:
                event = verify(body.rstrip(b"\r\n"), jwks)
            except Exception as error:  # each library raises its own kinds
                failed = True
                print(f"FAILED line {number}: {verify.__name__}: {error!r}", file=stdout)
            else:
                print(f"ok {event['id']} {verify.__name__}", file=stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
