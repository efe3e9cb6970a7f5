"""A kiosk at a centre, in the terminal, for demos and tests.

    python -m services.kiosk_gateway.simulator register baku-1          # admin: a new kiosk
    python -m services.kiosk_gateway.simulator activate K7M2-QX4P --token <kiosk token>
    python -m services.kiosk_gateway.simulator walk-in passport --token <kiosk token>
    python -m services.kiosk_gateway.simulator heartbeat --token <kiosk token>

It prints the ticket as the kiosk's thermal printer would (``--width 32`` or 48), or
the refusal in both languages.
"""
import argparse
import json
import os
import sys

import uuid

import requests

from shared.runtime.config import service_config


def gateway_url():
    """The gateway's base URL: ``KIOSK_GATEWAY_URL``, else its configured web address."""
    return os.environ.get("KIOSK_GATEWAY_URL") or \
        "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]


def call(method, path, token, body=None):
    """One press of a button: its own Idempotency-Key, so that a press resent after a
    lost answer prints no second ticket (a new press is a new ticket)."""
    return requests.request(method, f"{gateway_url()}{path}", json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}",
                                     "Idempotency-Key": str(uuid.uuid4())})


def show(response, width):
    """Print the answer as the kiosk would: a ticket as its ``width``-column printer
    (32 or 48) prints it, a refusal in both languages with its reasons, anything else
    as JSON. Returns the exit status: 1 for a refusal, else 0."""
    body = response.json()
    if response.status_code >= 400:
        print(f"[{response.status_code}] {body['message']['az']}\n       {body['message']['en']}")
        for reason in body.get("reasons") or []:  # what was wrong, when it is more
            if (reason["az"], reason["en"]) != (body["message"]["az"], body["message"]["en"]):
                print(f"       - {reason['az']}\n         {reason['en']}")
        return 1
    if "print" in body:
        print(body["print"][str(width)])
    else:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0


def main(argv=None):
    """Run one kiosk command (``register``, ``activate``, ``walk-in`` or ``heartbeat``)
    from ``argv``; returns the exit status."""
    parser = argparse.ArgumentParser(description="A kiosk simulator.")
    parser.add_argument("--token", default=os.environ.get("KIOSK_TOKEN"),
                        help="the kiosk's token (or the admin token for register)")
    parser.add_argument("--width", type=int, choices=(32, 48), default=32)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("register").add_argument("centre")
    sub.add_parser("activate").add_argument("order_code")
    sub.add_parser("walk-in").add_argument("service")
    sub.add_parser("heartbeat")
    args = parser.parse_args(argv)
    if args.command == "register":
        token = args.token or "admin-dev-token"
        return show(call("POST", "/admin/kiosks", token, {"centre": args.centre}), args.width)
    if not args.token:
        parser.error("--token (or KIOSK_TOKEN) is required")
    if args.command == "activate":
        return show(call("POST", "/kiosk/activations", args.token,
                         {"order_code": args.order_code}), args.width)
    if args.command == "walk-in":
        return show(call("POST", "/kiosk/walk-ins", args.token, {"service": args.service}),
                    args.width)
    return show(call("POST", "/kiosk/heartbeat", args.token), args.width)


if __name__ == "__main__":
    sys.exit(main())
