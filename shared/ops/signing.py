"""Operators' command for the key sets that sign each service's public events
(``shared.runtime.signatures`` says how events are signed and verified).

    python -m shared.ops.signing keygen booking      # a key set with one active key
    python -m shared.ops.signing ensure booking      # make one if there is none (make run)
    python -m shared.ops.signing rotate booking      # a new active key; the old one retired
    python -m shared.ops.signing revoke booking KID  # never trusted again
    python -m shared.ops.signing jwks booking        # the public JWKS
"""
import argparse
import json
import sys
from pathlib import Path

from ..runtime.config import service_config
from ..runtime.signatures import (ACTIVE, ALGORITHM, Signer, load_keys, new_key, public_jwks,
                                  revoke, rotate, save_keys)


def key_file(service):
    """The key set file of ``service``, from its config (``EVENT_SIGNING_KEYS``)."""
    return Path(service_config(service)["EVENT_SIGNING_KEYS"])


def main(argv=None):
    """``python -m shared.ops.signing keygen|ensure|rotate|jwks SERVICE`` or ``revoke SERVICE KID``:
    manages a service's Ed25519 key set (RFC 8037), or prints its public JWKS (RFC 7517).
    ``ensure`` (``make run``) makes the key set if there is none, and rotates one whose
    active key still signs under another name than :data:`ALGORITHM`."""
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
            keys = load_keys(path)
            if Signer(keys).algorithm != ALGORITHM:
                save_keys(path, rotate(keys, args.service))
                print(f"signing: {Signer(keys).kid} is {args.service}'s active key (signs as"
                      f" {ALGORITHM}; the one before stays in the JWKS, retired)")
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
