"""Outside subscribers: other government systems as first-class users of our events
(D-3, issue 14 §1), each with an account of its own on the broker.

    python -m shared.subscribers add NAME      # prints the account, once
    python -m shared.subscribers list
    python -m shared.subscribers revoke NAME   # closes its connections too

What an account may do is what RabbitMQ's permissions let it, so the broker itself
refuses the rest (ACCESS_REFUSED), whatever client the subscriber runs:

=========== ==============================================================================
configure   declare and delete queues named ``sub.NAME.…`` — nothing else
write       bind (and unbind) those queues — it cannot publish to any exchange
read        consume its own queues; bind them to the public ``<service>.events``
            exchanges (never ``<service>.private``); read the ``<service>.events.stream``
            streams
=========== ==============================================================================

The broker's management API is reached with the administrator's URI
(``RABBIT_API_URI``). The password is random, shown once, and kept by RabbitMQ only
as a salted hash.
"""
import argparse
import json
import os
import re
import secrets
import sys
from urllib.parse import quote, urlsplit

import requests

from .config import SERVICES
from .amqp import events_exchange_name, stream_name

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
USER_PREFIX = "sub-"
TAG = "asan-subscriber"


class SubscriberError(Exception):
    pass


def queue_prefix(name):
    return f"sub.{name}."


def permissions(name):
    """The regular expressions RabbitMQ matches resource names against."""
    own = re.escape(queue_prefix(name)) + ".*"
    public = "[a-z_]+\\.events(\\.stream)?"
    return {"configure": f"^{own}$", "write": f"^{own}$", "read": f"^({own}|{public})$"}


class Broker:
    """The RabbitMQ management API, as its administrator."""

    def __init__(self, api_uri, vhost="/"):
        parts = urlsplit(api_uri)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
        self.auth = (parts.username, parts.password)
        self.vhost = quote(vhost, safe="")

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        response = requests.request(method, f"{self.base}{path}", auth=self.auth, json=body,
                                    timeout=30)
        if response.status_code not in ok:
            raise SubscriberError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None


def add(broker, name, amqp_host, amqp_port, vhost="/", tls=False):
    """Create the account of subscriber ``name``; returns what it needs to connect
    (shown once: the password is not kept in clear anywhere)."""
    if not NAME_RE.match(name):
        raise SubscriberError("a name is 2-40 lower-case letters, digits and dashes")
    user = USER_PREFIX + name
    existing = broker.call("GET", f"/users/{quote(user, safe='')}", ok=(200, 404))
    if existing and existing.get("name") == user:
        raise SubscriberError(f"{name} exists: revoke it first to issue a new password")
    password = secrets.token_urlsafe(24)
    broker.call("PUT", f"/users/{user}", {"password": password, "tags": TAG})
    broker.call("PUT", f"/permissions/{broker.vhost}/{quote(user, safe='')}", permissions(name))
    scheme = "amqps" if tls else "amqp"
    return {
        "username": user, "password": password, "vhost": vhost,
        "amqp_uri": f"{scheme}://{quote(user)}:{quote(password)}@{amqp_host}:{amqp_port}/"
                    f"{quote(vhost, safe='') if vhost != '/' else ''}",
        "queue_prefix": queue_prefix(name),
        "exchanges": [events_exchange_name(service) for service in SERVICES],
        "streams": [stream_name(service) for service in SERVICES],
    }


def listing(broker):
    """[{"name", "user", "connections"}] of every subscriber account."""
    users = [user for user in broker.call("GET", "/users") if user.get("tags") in
             (TAG, [TAG])]
    connections = broker.call("GET", "/connections")
    return [{"name": user["name"].removeprefix(USER_PREFIX), "user": user["name"],
             "connections": sum(1 for c in connections if c.get("user") == user["name"])}
            for user in users]


def revoke(broker, name):
    """Delete the account and close its connections: it reads nothing more. Returns
    how many connections were closed. Its queues stay for an operator to inspect
    (``sub.NAME.…``) until deleted."""
    user = USER_PREFIX + name
    broker.call("DELETE", f"/users/{quote(user, safe='')}", ok=(204, 404))
    closed = 0
    for connection in broker.call("GET", "/connections"):
        if connection.get("user") == user:
            broker.call("DELETE", f"/connections/{quote(connection['name'], safe='')}",
                        ok=(204, 404))
            closed += 1
    return closed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("add").add_argument("name")
    sub.add_parser("list")
    sub.add_parser("revoke").add_argument("name")
    args = parser.parse_args(argv)
    broker = Broker(os.environ.get("RABBIT_API_URI", "http://127.0.0.1:55673"))
    try:
        if args.command == "add":
            tls = os.environ.get("RABBIT_TLS_PORT")
            host = os.environ.get("RABBIT_HOST", "127.0.0.1")
            port = tls or os.environ.get("RABBIT_PORT", "55672")
            print(json.dumps(add(broker, args.name, host, port, tls=bool(tls)), indent=2))
        elif args.command == "list":
            for row in listing(broker):
                print(f"{row['name']:30} {row['connections']} connection(s)")
        else:
            print(f"revoked {args.name}; closed {revoke(broker, args.name)} connection(s)")
    except SubscriberError as error:
        print(f"subscribers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
