"""Outside subscribers: other government systems as first-class users of our events
(D-3, issue 14 §1), each with an account of its own on the broker.

    python -m shared.ops.subscribers add NAME      # prints the account, once
    python -m shared.ops.subscribers list
    python -m shared.ops.subscribers revoke NAME   # closes its connections too

What an account may do is what RabbitMQ's permissions let it, so the broker itself
refuses the rest (ACCESS_REFUSED), whatever client the subscriber runs:

=========== ==============================================================================
configure   declare and delete queues named ``sub.NAME.…`` — nothing else
write       bind (and unbind) those queues — it cannot publish to any exchange of
            ours, nor to the default exchange (no queue of anyone else's)
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
from urllib.parse import quote

from ..runtime.amqp import events_exchange_name, stream_name
from .brokerusers import Broker, BrokerError
from ..runtime.config import SERVICES

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
USER_PREFIX = "sub-"
TAG = "asan-subscriber"
REVOKE_SETTLE_SECONDS = 6  # the management API's statistics interval (5 s) and a margin


class SubscriberError(BrokerError):
    """A subscriber name that is malformed or taken (issue 14: outside systems' broker accounts,
    D-3)."""

    pass


def queue_prefix(name):
    """The prefix of every queue subscriber ``name`` may declare and read: ``sub.<name>.``."""
    return f"sub.{name}."


def public_resources():
    """The public exchanges and streams, exactly: ``<service>.events`` and
    ``<service>.events.stream`` of each of our services."""
    return ([events_exchange_name(service) for service in SERVICES],
            [stream_name(service) for service in SERVICES])


def permissions(name):
    """The regular expressions RabbitMQ matches resource names against. Exchanges
    and queues share one namespace in them: an exchange named under the prefix would
    be the subscriber's as well — it could route into its own queues only."""
    own = re.escape(queue_prefix(name)) + ".*"
    exchanges, streams = public_resources()
    public = "|".join(re.escape(resource) for resource in exchanges + streams)
    return {"configure": f"^{own}$", "write": f"^{own}$", "read": f"^({own}|{public})$"}


def _uri(scheme, user, password, host, port, vhost):
    path = quote(vhost, safe="") if vhost != "/" else ""
    return f"{scheme}://{quote(user)}:{quote(password)}@{host}:{port}/{path}"


def add(broker, name, amqp_host, amqp_port, vhost="/", tls_port=None):
    """Create the account of subscriber ``name``; returns what it needs to connect
    (shown once: the password is not kept in clear anywhere): ``username``,
    ``password``, ``vhost``, ``amqp_uri``, ``amqps_uri`` (with ``tls_port``; verify
    the broker with the CA), ``queue_prefix``, ``exchanges``, ``streams``. Raises
    :class:`SubscriberError` for a bad name or one that exists."""
    if not NAME_RE.match(name):
        raise SubscriberError("a name is 2-40 lower-case letters, digits and dashes")
    user = USER_PREFIX + name
    existing = broker.call("GET", f"/users/{quote(user, safe='')}", ok=(200, 404))
    if existing and existing.get("name") == user:
        raise SubscriberError(f"{name} exists: revoke it first to issue a new password")
    password = secrets.token_urlsafe(24)
    broker.put_user(user, password, TAG, permissions(name))
    exchanges, streams = public_resources()
    account = {
        "username": user, "password": password, "vhost": vhost,
        "amqp_uri": _uri("amqp", user, password, amqp_host, amqp_port, vhost),
        "queue_prefix": queue_prefix(name), "exchanges": exchanges, "streams": streams,
    }
    if tls_port:
        account["amqps_uri"] = _uri("amqps", user, password, amqp_host, tls_port, vhost)
    return account


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
    # Deleting the user stops new logins; its open connections are closed here, also
    # one opened just before that the API does not list yet.
    return broker.close_connections(user, settle=REVOKE_SETTLE_SECONDS)


def main(argv=None):
    """``python -m shared.ops.subscribers add NAME | list | revoke NAME``: manages the broker
    accounts of outside subscribers (D-3); returns the exit status, 1 when the broker
    refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("add").add_argument("name")
    sub.add_parser("list")
    sub.add_parser("revoke").add_argument("name")
    args = parser.parse_args(argv)
    broker = Broker(os.environ.get("RABBIT_API_URI", "http://127.0.0.1:27673"))
    try:
        if args.command == "add":
            host = os.environ.get("RABBIT_HOST", "127.0.0.1")
            port = os.environ.get("RABBIT_PORT", "27672")
            account = add(broker, args.name, host, port,
                          tls_port=os.environ.get("RABBIT_TLS_PORT"))
            print(json.dumps(account, indent=2))
        elif args.command == "list":
            for row in listing(broker):
                print(f"{row['name']:30} {row['connections']} connection(s)")
        else:
            print(f"revoked {args.name}; closed {revoke(broker, args.name)} connection(s)")
    except BrokerError as error:
        print(f"subscribers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
