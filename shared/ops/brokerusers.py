"""Our own processes' accounts on the broker (issue 14 §1): one RabbitMQ user per
service and per relay, each allowed exactly what that process does and nothing more.

    python -m shared.ops.brokerusers ensure        # create or update every user (make run)
    python -m shared.ops.brokerusers show          # who may do what (the regular expressions)
    python -m shared.ops.brokerusers uri PROCESS   # that process's AMQP_URI, e.g. booking-relay

Why: with one shared account a bug or a stolen password in any process could read
every private exchange (booking codes), publish events in another service's name or
delete any queue. Here the broker itself refuses (ACCESS_REFUSED) what a process has
no business doing.

The permissions are *derived from the code*, not written by hand: the topology our
services declare (``shared.ops.topology``: each ``@on_event`` handler's queues and the
exchange it binds to, the RPC request queue of a service with ``@rpc`` entrypoints)
and the RPC callers (a :class:`shared.runtime.rpc.RpcProxy` dependency: a reply queue of its
own). A new handler gets its rights at the next ``ensure``. What each process needs,
by RabbitMQ's rules (configure: declare/delete; write: publish to an exchange, bind a
queue; read: consume a queue, bind *from* an exchange):

============ ==================================================================
a service    configure its handlers' queues (and nameko's RPC exchange and its
             request / reply queues) — never an exchange of another service, which
             topology declared (a configure right would let it delete them); write
             its queues, its own ``<service>.requeue`` exchange (retries, delays and
             the DLQ are reached through it, by queue name, and its queues
             dead-letter into it), the RPC exchange; read its queues, the exchanges
             they bind to, its requeue exchange, the RPC exchange. Never the default
             exchange: that would be a right to publish into every queue.
a relay      configure and write ``<service>.events`` and ``<service>.private`` (the
             stream fills through the exchange's binding); read nothing
web          nothing (it has no AMQP entrypoint; an account that can do nothing)
============ ==================================================================

The administrator (``RABBIT_USER``, made by ``deploy/bin/infra up``) declares the
topology, runs this command, the dead-letter tool and the subscribers' accounts.

Passwords are generated once into ``$ASAN_STATE_DIR/secrets/rabbitmq-<user>`` (mode
0600) and handed to each process as its own ``AMQP_URI`` (``shared.ops.supervision``
writes it into supervisord's ``environment=`` line of the program). To rotate one:
delete its file, run ``ensure``, restart the process (docs/OPERATIONS.md).
"""
import argparse
import os
import re
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, get_rpc_exchange

from ..runtime.amqp import (broker_urls, events_exchange_name, private_exchange_name,
                            requeue_exchange_name)
from ..runtime.config import PAGES, REPO_ROOT, SERVICES, service_config
from .procfile import processes as procfile

TAG = "asan-process"  # our processes' users, told apart from subscribers' and admins'
NOTHING = "^$"


class BrokerError(Exception):
    """The RabbitMQ management API answered with an unexpected status (the message gives method,
    path, status and the start of the body)."""

    pass


class Broker:
    """The RabbitMQ management API, as its administrator (``RABBIT_API_URI``:
    ``http://user:password@host:port``). :meth:`call` raises :class:`BrokerError`
    on any status not in ``ok``."""

    def __init__(self, api_uri, vhost="/"):
        parts = urlsplit(api_uri)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
        self.auth = (parts.username, parts.password)
        self.vhost = quote(vhost, safe="")

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        """``method`` ``path`` (under ``/api``) with JSON ``body``; the decoded JSON answer, or
        ``None`` for an empty one. Raises :class:`BrokerError` on a status not in ``ok``;
        times out after 30 s (``requests.Timeout``)."""
        response = requests.request(method, f"{self.base}{path}", auth=self.auth, json=body,
                                    timeout=30)
        if response.status_code not in ok:
            raise BrokerError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None

    def put_user(self, user, password, tags, permissions):
        """Create or update ``user`` with ``password`` and ``permissions`` on the vhost
        (``{"configure", "write", "read"}`` regular expressions)."""
        name = quote(user, safe="")
        self.call("PUT", f"/users/{name}", {"password": password, "tags": tags})
        self.call("PUT", f"/permissions/{self.vhost}/{name}", permissions)

    def close_connections(self, user, settle=0.0):
        """Close every connection of ``user``; returns how many. The API lists a new
        connection only after the broker's next statistics round (5 s by default):
        with ``settle`` it looks again for that long, closing any that appear."""
        closed, seen = 0, set()
        deadline = time.monotonic() + settle
        while True:
            for connection in self.call("GET", "/connections"):
                if connection.get("user") == user and connection["name"] not in seen:
                    seen.add(connection["name"])
                    self.call("DELETE", f"/connections/{quote(connection['name'], safe='')}",
                              ok=(204, 404))
                    closed += 1
            if time.monotonic() >= deadline:
                return closed
            time.sleep(1)


def _any_of(patterns):
    """One anchored regular expression matching any of ``patterns`` (fragments)."""
    patterns = sorted(set(patterns))
    return f"^({'|'.join(patterns)})$" if patterns else NOTHING


def _exact(*names):
    return [re.escape(name) for name in names]


def _handler_queues(names):
    """The queues of one handler (``shared.runtime.consumer.QueueNames``), exactly, as one
    fragment: ``<queue>`` followed by nothing, ``.retry.1`` … or ``.dlq``."""
    suffixes = [name.removeprefix(names.main) for name, _ in names.declarations()]
    return re.escape(names.main) + f"({'|'.join(re.escape(s) for s in suffixes)})"


def processes():
    """The process names of ``deploy/Procfile`` (each one a broker user)."""
    return [name for name, _ in procfile()]


def relay_permissions(service):
    """What ``<service>-relay`` may do: publish the service's events (and declare
    the two exchanges it publishes to). The stream is filled by the exchange's
    binding, which topology (the administrator) made: the relay needs no right on it."""
    own = _any_of(_exact(events_exchange_name(service), private_exchange_name(service)))
    return {"configure": own, "write": own, "read": NOTHING}


def service_permissions(service, config_of=service_config):
    """What the nameko service ``service`` may do, from the topology it declares
    (see the module's table)."""
    from ..runtime.rpc import RpcProxy, request_queue
    from .topology import consumer_queues, rpc_entrypoints, service_class

    config = config_of(service)
    queues, exchanges, write, declared = [], [], [], []
    for names, consumer in consumer_queues([service], config_of):
        queues.append(_handler_queues(names))
        exchanges += _exact(consumer.exchange_name, requeue_exchange_name(service))
        write += _exact(requeue_exchange_name(service))
        declared += _exact(requeue_exchange_name(service))  # its own: it declares it
    cls = service_class(service)
    rpc_exchange = get_rpc_exchange(config).name
    if rpc_entrypoints(cls):  # the callee: its request queue, replies to callers
        queues += _exact(request_queue(service, config).name)
        exchanges += _exact(rpc_exchange)
        write += _exact(rpc_exchange)
        declared += _exact(rpc_exchange)  # nameko declares its RPC exchange itself
    if any(isinstance(value, RpcProxy) for value in vars(cls).values()):  # a caller
        queues.append(re.escape(RPC_REPLY_QUEUE_TEMPLATE.format(service, "")) + "[0-9a-f-]+")
        exchanges += _exact(rpc_exchange)
        write += _exact(rpc_exchange)
        declared += _exact(rpc_exchange)
    # configure: its own queues only (and nameko's RPC exchange): the exchanges it
    # binds to were declared by topology, and a configure right on them would be a
    # right to delete another service's public exchange.
    return {"configure": _any_of(queues + declared), "write": _any_of(queues + write),
            "read": _any_of(queues + exchanges)}


def permissions(process, config_of=service_config):
    """The permissions of the user of ``process`` (a Procfile name)."""
    if process.endswith("-relay"):
        return relay_permissions(process.removesuffix("-relay"))
    if process in PAGES:
        return {"configure": NOTHING, "write": NOTHING, "read": NOTHING}
    if process in SERVICES:
        return service_permissions(process, config_of)
    raise KeyError(f"unknown process {process!r}")


# --- passwords and URIs --------------------------------------------------------------

def secrets_dir():
    """``$ASAN_SECRETS_DIR`` (deploy/env.sh: ``$ASAN_STATE_DIR/secrets``)."""
    if os.environ.get("ASAN_SECRETS_DIR"):
        return Path(os.environ["ASAN_SECRETS_DIR"])
    return Path(os.environ.get("ASAN_STATE_DIR") or str(REPO_ROOT / ".state")) / "secrets"


def password_file(user, folder=None):
    """The file holding the broker password of ``user``: ``<folder or
    secrets_dir()>/rabbitmq-<user>``."""
    return Path(folder or secrets_dir()) / f"rabbitmq-{user}"


def password(user, folder=None, create=False):
    """The password of ``user``, generated into its file the first time (``create``).
    Raises :class:`BrokerError` if there is none and ``create`` is false."""
    path = password_file(user, folder)
    if not path.exists():
        if not create:
            raise BrokerError(f"no password for broker user {user} ({path}):"
                              " run python -m shared.ops.brokerusers ensure")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created 0600 from the start: never readable by others, not even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def with_credentials(amqp_uri, user, secret):
    """``amqp_uri`` (one node, or several separated by ``;``) with ``user`` and
    ``secret`` in each node's URL instead of the credentials it had."""
    urls = []
    for url in broker_urls(amqp_uri):
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        netloc = f"{quote(user, safe='')}:{quote(secret, safe='')}@{host}"
        urls.append(urlunsplit(parts._replace(netloc=netloc)))
    return ";".join(urls)


def process_amqp_uri(process, amqp_uri, folder=None):
    """The ``AMQP_URI`` of ``process``: the nodes of ``amqp_uri``, its own account."""
    return with_credentials(amqp_uri, process, password(process, folder))


def ensure(broker, names=None, folder=None):
    """Create or update the user of every process (``names``: all of the Procfile),
    generating the passwords not made yet; returns ``{user: permissions}``. Idempotent:
    run before the processes start (deploy/bin/run)."""
    done = {}
    for process in names or processes():
        rights = permissions(process)
        broker.put_user(process, password(process, folder, create=True), TAG, rights)
        done[process] = rights
    return done


def main(argv=None):
    """``python -m shared.ops.brokerusers ensure|show|uri <process>``; returns the exit status (1
    when the broker refused, see :class:`BrokerError`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="create or update every process's user")
    sub.add_parser("show", help="print every process's permissions")
    sub.add_parser("uri", help="print a process's AMQP_URI").add_argument("process")
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure":
            broker = Broker(os.environ.get("RABBIT_API_URI", "http://127.0.0.1:27673"))
            done = ensure(broker)
            print(f"brokerusers: {len(done)} users with their permissions:"
                  f" {', '.join(done)} (passwords in {secrets_dir()})")
        elif args.command == "show":
            for process in processes():
                rights = permissions(process)
                print(process)
                for kind in ("configure", "write", "read"):
                    print(f"  {kind:9} {rights[kind]}")
        else:
            print(process_amqp_uri(args.process, os.environ["AMQP_URI"]))
    except BrokerError as error:
        print(f"brokerusers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
