"""Signing keys for tests that run a relay: a fresh key set per relay (issue 14 §4)."""
import json

from shared.runtime.signatures import Signer, new_key, public_jwks


def key_set(service):
    """A key set with one active key, as ``python -m shared.ops.signing keygen`` makes."""
    return {"keys": [new_key(service)]}


def signer_for(service):
    return Signer(key_set(service))


def write_key_set(folder, service):
    """A key set file for a relay started from a config; returns (path, public JWKS)."""
    keys = key_set(service)
    path = folder / f"{service}-keys.json"
    path.write_text(json.dumps(keys))
    return path, public_jwks(keys)
