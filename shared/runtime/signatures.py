"""Signed events (issue 14 §4): every public event carries its service's signature, so
a subscriber can prove, offline and long after, that an event is ours and unaltered —
whoever relayed it, and even if someone could publish to our exchanges.

The standard, not a scheme of our own: a JWS (RFC 7515) in compact serialization with
a *detached* payload (RFC 7515 appendix F), signed with Ed25519 by the JOSE library
``joserfc``. The payload is the event's JSON text as published *without* its
``signature`` member, and that member is always the last one, so a verifier in any
language recovers the signed bytes exactly by cutting it off — no canonicalization::

    {"specversion":"1.0",…,"data":{…},"sequence":"00000000000000000042","signature":"eyJ…"}
    └──────────────── the signed payload: this text, then "}" ──────────────────────┘

The algorithm's name in the JWS header is ``EdDSA`` with an ``OKP`` key of curve
``Ed25519`` (RFC 8037): the one name that PyJWT, jwcrypto, Node's ``jose`` and
joserfc all verify (RFC 9864's newer name ``Ed25519`` for the same signature is
refused by PyJWT 2.15: ``tests/unit/test_signing_elsewhere.py``). Each key says in
its JWK ``alg`` which name its signatures carry, since Node's ``jose`` and PyJWT
pick keys by it: a key with ``alg`` ``Ed25519`` (as earlier versions made them) goes
on signing under that name until it is rotated, so subscribers who pinned it keep
working until the announced rotation, and both names verify here for as long as
their keys are in the JWKS (docs/EVENTS.md, "Two names for one signature").

An event is bound to its producer: a key's ``kid`` is ``<service>-…`` (service names
have no hyphen), and an event verifies only with a key of the service its ``source``
(``/asan/<service>``) names — so a key set holding several services' keys cannot let
one service's key vouch for another's events.

Keys: each service has a key set file (``EVENT_SIGNING_KEYS``, a JSON object
``{"keys": [JWK + "status"]}``; ``make run`` creates one under ``.state/keys/``, in
production a Secret): one ``active`` private key signs; ``retired`` keys (rotated
out) still verify the events they signed; ``revoked`` keys (compromised) do not. The
public keys of the active and retired ones are the service's JWKS, served at ``GET
/.well-known/jwks.json``.

Operators manage the key sets with ``python -m shared.ops.signing``; ``python -m
shared.ops.verify`` checks events against a JWKS (see there).
"""
import base64
import json
import os
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey

from ..vocabulary.clock import utcnow

ALGORITHM = "EdDSA"  # what new keys sign with (RFC 8037)
ALGORITHMS = ("EdDSA", "Ed25519")  # what verifies: RFC 9864's name too (older keys)
CURVE = "Ed25519"
MEMBER = ',"signature":"'
ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"


class InvalidSignature(ValueError):
    """An event whose signature does not hold; ``str()`` says why."""


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@contextmanager
def _deliberately_eddsa():
    """joserfc warns on every use of the name ``EdDSA`` (RFC 9864 deprecates it in
    favour of ``Ed25519``); we use it on purpose, for the verifiers that know no other."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        yield


def key_owner(kid):
    """The service a key belongs to: its ``kid`` up to the first hyphen
    (``kiosk_gateway-20261130-1a2b3c4d`` → ``kiosk_gateway``)."""
    return str(kid).split("-", 1)[0]


def event_service(source):
    """The service an event's ``source`` (``/asan/<service>``) names, or ``None``."""
    if isinstance(source, str) and source.startswith("/asan/") and source.count("/") == 2:
        return source.removeprefix("/asan/") or None
    return None


# --- keys -------------------------------------------------------------------------

def new_key(service):
    """A new Ed25519 key (private JWK dict, ``alg`` :data:`ALGORITHM`) for ``service``
    (a name without hyphens: the ``kid`` begins with it, :func:`key_owner`)."""
    if "-" in service:
        raise ValueError(f"a service name has no hyphen: {service!r}")
    now = utcnow()
    kid = f"{service}-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    key = OKPKey.generate_key(CURVE, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM},
                              private=True)
    return dict(key.as_dict(private=True), status=ACTIVE,
                created=now.isoformat(timespec="seconds"))


def load_keys(path):
    """The key set file at ``path`` as ``{"keys": [...]}``."""
    return json.loads(Path(path).read_text("utf-8"))


def save_keys(path, keys):
    """Write the key set, readable by its owner only (it holds private keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(keys, out, indent=2)
    os.replace(temporary, path)


def public_jwks(keys, service=None):
    """The JWKS of a key set: the public parts of its active and retired keys (only
    those ``service`` owns, if given: :func:`key_owner`), each with its ``kty`` ``OKP``,
    ``crv`` ``Ed25519``, ``kid``, ``use`` ``sig`` and ``alg`` (the name in the header
    of the events it signs)."""
    public = []
    for jwk in keys["keys"]:
        if service is not None and key_owner(jwk.get("kid")) != service:
            continue
        if jwk.get("status") in (ACTIVE, RETIRED):
            public.append({name: jwk[name] for name in ("kty", "crv", "x", "kid", "use", "alg")
                           if name in jwk})
    return {"keys": public}


def rotate(keys, service):
    """A new active key; the active one becomes retired (its events still verify)."""
    for jwk in keys["keys"]:
        if jwk.get("status") == ACTIVE:
            jwk["status"] = RETIRED
    keys["keys"].append(new_key(service))
    return keys


def revoke(keys, kid):
    """Never trust ``kid`` again (it is left out of the JWKS)."""
    found = [jwk for jwk in keys["keys"] if jwk.get("kid") == kid]
    if not found:
        raise KeyError(kid)
    for jwk in found:
        jwk["status"] = REVOKED
    return keys


# --- signing ----------------------------------------------------------------------

class Signer:
    """Signs with the active key of a key set, under the algorithm name its JWK
    ``alg`` states (``EdDSA``, or ``Ed25519`` for an older key until it is rotated)."""

    def __init__(self, keys, service=None):
        """``keys``: a key set (:func:`load_keys`); ``service``, if given, must own the
        active key (:func:`key_owner`), or a relay would sign events its subscribers
        refuse. ``ValueError`` unless exactly one key is active and it is an Ed25519
        key of a known algorithm name."""
        active = [jwk for jwk in keys["keys"] if jwk.get("status") == ACTIVE]
        if len(active) != 1:
            raise ValueError(f"a key set needs exactly one active key, not {len(active)}")
        jwk = {name: value for name, value in active[0].items()
               if name not in ("status", "created")}
        self.kid = jwk["kid"]
        self.algorithm = jwk.get("alg", ALGORITHM)
        if self.algorithm not in ALGORITHMS or jwk.get("crv") != CURVE:
            raise ValueError(f"key {self.kid} is not an Ed25519 signing key")
        if service is not None and key_owner(self.kid) != service:
            raise ValueError(f"key {self.kid} is not {service}'s (a kid begins with its service)")
        self.key = OKPKey.import_key(jwk)

    @classmethod
    def from_file(cls, path, service=None):
        """A signer with the active key of the JWKS key set in the file at ``path``
        (:func:`load_keys`); ``ValueError`` as for the constructor."""
        return cls(load_keys(path), service)

    def detached(self, payload):
        """The compact JWS of ``payload`` (bytes), its payload part left out."""
        with _deliberately_eddsa():
            token = jws.serialize_compact({"alg": self.algorithm, "kid": self.kid}, payload,
                                          self.key, algorithms=[self.algorithm])
        header, _, signature = token.split(".")
        return f"{header}..{signature}"

    def sign_event(self, body):
        """``body`` (the event's JSON text, bytes, an object) with its ``signature``
        member added last."""
        if not body.endswith(b"}") or MEMBER.encode() in body:
            raise ValueError("not an unsigned JSON object")
        return body[:-1] + f'{MEMBER}{self.detached(body)}"}}'.encode("ascii")


# --- verifying ----------------------------------------------------------------------

def split_signed(text):
    """(signed payload, JWS) of an event's JSON text, or :class:`InvalidSignature`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.strip()
    at = text.rfind(MEMBER)
    if at < 0 or not text.endswith('"}'):
        raise InvalidSignature("no signature (it is the event's last member)")
    token = text[at + len(MEMBER):-2]
    return (text[:at] + "}").encode("utf-8"), token


def verify_event(text, jwks):
    """The ``kid`` that signed the event ``text`` (its bytes as delivered);
    :class:`InvalidSignature` unless its signature verifies with a key of ``jwks`` (a
    dict ``{"keys": [...]}``, one service's JWKS or several merged) that belongs to the
    service its ``source`` names, under an algorithm name of :data:`ALGORITHMS` that
    is the key's own ``alg``."""
    payload, token = split_signed(text)
    try:
        header, empty, signature = token.split(".")
    except ValueError:
        raise InvalidSignature("the signature is not a detached compact JWS") from None
    if empty:
        raise InvalidSignature("the signature's payload is not detached")
    try:
        protected = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        raise InvalidSignature("the signature's header is not readable") from None
    if not isinstance(protected, dict):
        raise InvalidSignature("the signature's header is not readable")
    kid, algorithm = protected.get("kid"), protected.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidSignature(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    known = [jwk for jwk in jwks.get("keys", []) if jwk.get("kid") == kid]
    if not known:
        raise InvalidSignature(f"unknown or revoked key {kid!r}")
    jwk = known[0]
    if jwk.get("crv") != CURVE or jwk.get("alg", algorithm) != algorithm:
        raise InvalidSignature(f"key {kid} does not sign with {algorithm!r}"
                               f" (it is {jwk.get('crv')} {jwk.get('alg')})")
    try:
        with _deliberately_eddsa():
            jws.deserialize_compact(f"{header}.{_b64(payload)}.{signature}",
                                    KeySet([OKPKey.import_key(jwk)]), algorithms=[algorithm])
    except (JoseError, ValueError) as error:
        raise InvalidSignature(f"the signature does not match the event ({error})") from None
    try:
        claimed = event_service(json.loads(payload).get("source"))
    except (ValueError, AttributeError):
        raise InvalidSignature("the signed event is not a JSON object") from None
    if claimed is None or key_owner(kid) != claimed:
        raise InvalidSignature(f"signed with {key_owner(kid)}'s key {kid}, but the event"
                               f" claims to come from {claimed!r}")
    return kid
