"""Signed events (issue 14 §4): every public event carries its service's signature, so
a subscriber can prove, offline and long after, that an event is ours and unaltered —
whoever relayed it, and even if someone could publish to our exchanges.

The standard, not a scheme of our own: a JWS (RFC 7515) in compact serialization with
a *detached* payload (RFC 7515 appendix F), algorithm ``Ed25519`` (RFC 8037, named as
RFC 9864 asks), by the JOSE library ``joserfc``. The payload is the event's JSON text
as published *without* its ``signature`` member, and that member is always the last
one, so a verifier in any language recovers the signed bytes exactly by cutting it
off — no canonicalization::

    {"specversion":"1.0",…,"data":{…},"sequence":"00000000000000000042","signature":"eyJ…"}
    └──────────────── the signed payload: this text, then "}" ──────────────────────┘

Keys: each service has a key set file (``EVENT_SIGNING_KEYS``, a JSON object
``{"keys": [JWK + "status"]}``; ``make run`` creates one under ``.state/keys/``, in
production a Secret): one ``active`` private key signs; ``retired`` keys (rotated
out) still verify the events they signed; ``revoked`` keys (compromised) do not. The
public keys of the active and retired ones are the service's JWKS, served at ``GET
/.well-known/jwks.json``.

    python -m shared.signing keygen booking      # a key set with one active key
    python -m shared.signing rotate booking      # a new active key; the old one retired
    python -m shared.signing revoke booking KID  # never trusted again
    python -m shared.signing jwks booking        # the public JWKS

``python -m shared.verify`` checks events against a JWKS (see there).
"""
import argparse
import base64
import json
import os
import sys
import uuid
from pathlib import Path

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from .clock import utcnow

ALGORITHM = "Ed25519"
MEMBER = ',"signature":"'
ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"


class InvalidSignature(ValueError):
    """An event whose signature does not hold; ``str()`` says why."""


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- keys -------------------------------------------------------------------------

def new_key(service):
    """A new Ed25519 key (private JWK dict) for ``service``."""
    now = utcnow()
    kid = f"{service}-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    key = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig",
                                                     "alg": ALGORITHM}, private=True)
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


def public_jwks(keys):
    """The JWKS of a key set: the public parts of its active and retired keys."""
    public = []
    for jwk in keys["keys"]:
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
    """Signs with the active key of a key set."""

    def __init__(self, keys):
        active = [jwk for jwk in keys["keys"] if jwk.get("status") == ACTIVE]
        if len(active) != 1:
            raise ValueError(f"a key set needs exactly one active key, not {len(active)}")
        jwk = {name: value for name, value in active[0].items()
               if name not in ("status", "created")}
        self.kid = jwk["kid"]
        self.key = OKPKey.import_key(jwk)

    @classmethod
    def from_file(cls, path):
        """A signer with the active key of the JWKS key set in the file at ``path``
        (:func:`load_keys`); ``ValueError`` unless exactly one key is active."""
        return cls(load_keys(path))

    def detached(self, payload):
        """The compact JWS of ``payload`` (bytes), its payload part left out."""
        token = jws.serialize_compact({"alg": ALGORITHM, "kid": self.kid}, payload, self.key,
                                      algorithms=[ALGORITHM])
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
    """The ``kid`` that signed the event ``text``; :class:`InvalidSignature` unless its
    signature verifies with a key of ``jwks`` (a dict ``{"keys": [...]}``)."""
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
    kid = protected.get("kid")
    known = [jwk for jwk in jwks.get("keys", []) if jwk.get("kid") == kid]
    if not known:
        raise InvalidSignature(f"unknown or revoked key {kid!r}")
    try:
        jws.deserialize_compact(f"{header}.{_b64(payload)}.{signature}",
                                KeySet([OKPKey.import_key(known[0])]), algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise InvalidSignature(f"the signature does not match the event ({error})") from None
    return kid


# --- the command line --------------------------------------------------------------

def key_file(service):
    """The key set file of ``service``, from its config (``EVENT_SIGNING_KEYS``)."""
    from .config import service_config

    return Path(service_config(service)["EVENT_SIGNING_KEYS"])


def main(argv=None):
    """``python -m shared.signing keygen|ensure|rotate|jwks SERVICE`` or ``revoke SERVICE KID``:
    manages a service's Ed25519 key set (RFC 8037), or prints its public JWKS (RFC 7517)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("keygen", "ensure", "rotate", "jwks"):
        sub.add_parser(name).add_argument("service")
    revoking = sub.add_parser("revoke")
    revoking.add_argument("service")
    revoking.add_argument("kid")
    args = parser.parse_args(argv)
    path = key_file(args.service)
    if args.command in ("keygen", "ensure"):
        if path.exists():
            if args.command == "keygen":
                parser.error(f"{path} exists: rotate instead")
            return 0
        save_keys(path, {"keys": [new_key(args.service)]})
        print(f"signing: a key set for {args.service} in {path}")
    elif args.command == "rotate":
        keys = rotate(load_keys(path), args.service)
        save_keys(path, keys)
        print(f"signing: {Signer(keys).kid} is {args.service}'s active key; restart its"
              " relay(s) to sign with it (they read the key set when they start)")
    elif args.command == "revoke":
        keys = load_keys(path)
        if any(jwk.get("kid") == args.kid and jwk.get("status") == ACTIVE
               for jwk in keys["keys"]):
            keys = rotate(keys, args.service)  # a service always has a key to sign with
        save_keys(path, revoke(keys, args.kid))
        print(f"signing: {args.kid} revoked; {Signer(keys).kid} is {args.service}'s active key:"
              " restart its relay(s) now, since until then they sign with the key they"
              " started with")
    else:
        json.dump(public_jwks(load_keys(path)), sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
