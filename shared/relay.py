"""The outbox relay: publishes what committed transactions put in a service's outbox.

    python -m shared.relay services/booking/config.yaml

One loop: lock a batch of outbox rows (``FOR UPDATE SKIP LOCKED``, so several relays
may run), publish them all with publisher confirms, delete them, commit. A crash
anywhere before the commit leaves the rows in place and they are published again on
restart, with the same ``message_id`` (= event id): consumers are idempotent. It
wakes on ``NOTIFY outbox`` from committing writers, and polls as a fallback.

Every public event (those to ``<service>.events``) leaves numbered and signed (issue
14): the relay adds ``sequence`` — the next number of the service's gap-free count of
public events (table ``public_sequence``, advanced in the batch's transaction) — and
then ``signature``, a JWS of the event's text by the service's active key
(``EVENT_SIGNING_KEYS``, ``shared.signing``). Both are deterministic: a batch
published again after a crash goes out byte for byte the same. The events exchange
also routes every public event into the service's stream ``<service>.events.stream``
(a binding made by ``shared.topology``), so the one confirmed publish puts it in
both, in the same order.

``AMQP_URI`` may name several nodes of a RabbitMQ cluster (``amqp://a/;amqp://b/``):
when the node it publishes through dies, the batch's transaction rolls back (its rows
stay, in their order) and the batch goes out again through another node.
"""
import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path

import psycopg

from .amqp import CLOUDEVENTS_JSON, BatchPublisher, events_exchange_name
from .config import load_config
from .logs import configure_logging
from .metrics import EVENTS_PUBLISHED, RELAY_LAG, RELAY_LEADER, RELAY_PENDING
from .signing import Signer

log = logging.getLogger("shared.relay")

FAULT_ENV = "ASAN_RELAY_FAULT"  # test hook: "after-fetch" or "after-publish" → SIGKILL self


def _fault_point(name):
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class Relay:
    """Publishes one service's outbox. ``signer``: a :class:`shared.signing.Signer` of
    the service's key set (every public event is signed; there is no unsigned mode)."""

    def __init__(self, service, database_url, amqp_uri, signer, batch_size=500,
                 poll_interval=1.0):
        self.service = service
        self.public_exchange = events_exchange_name(service)
        self.signer = signer
        self.database_url = database_url
        self.publisher = BatchPublisher(amqp_uri)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.stopping = threading.Event()

    def relay_once(self, conn):
        """Publish one batch; returns how many messages went out."""
        with conn.transaction():
            rows = conn.execute(
                "SELECT id, message_id, exchange, routing_key, body, headers FROM outbox"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (self.batch_size,)).fetchall()
            if not rows:
                return 0
            _fault_point("after-fetch")
            rows = self._number_and_sign(conn, rows)
            self.publisher.publish_batch(self._message(row) for row in rows)
            _fault_point("after-publish")
            conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", ([row[0] for row in rows],))
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row[2]).inc()
        return len(rows)

    def _number_and_sign(self, conn, rows):
        """The batch with each public event's body numbered and signed (see the
        module); the new last number stored in the batch's transaction."""
        public = sum(1 for row in rows if row[2] == self.public_exchange)
        if not public:
            return rows
        last = conn.execute("SELECT last FROM public_sequence FOR UPDATE").fetchone()[0]
        conn.execute("UPDATE public_sequence SET last = %s", (last + public,))
        numbered = []
        for row in rows:
            if row[2] == self.public_exchange:
                last += 1
                body = bytes(row[4])
                body = self.signer.sign_event(body[:-1] + b',"sequence":%d}' % last)
                headers = dict(row[5] or {}, sequence=last)
                row = (*row[:4], body, headers)
            numbered.append(row)
        return numbered

    @staticmethod
    def _message(row):
        _, message_id, exchange, routing_key, body, headers = row
        properties = {
            "content_type": CLOUDEVENTS_JSON,
            "content_encoding": "utf-8",
            "message_id": str(message_id),
            "type": routing_key,
            "application_headers": dict(headers or {}),
        }
        if headers and headers.get("correlation_id"):
            properties["correlation_id"] = headers["correlation_id"]
        return exchange, routing_key, bytes(body), properties

    def measure_lag(self, conn):
        pending, lag = conn.execute(
            "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)"
            " FROM outbox").fetchone()
        conn.commit()
        RELAY_PENDING.labels(self.service).set(pending)
        RELAY_LAG.labels(self.service).set(float(lag))
        return pending

    def run(self):
        """Relay until :meth:`stop`; reconnects after broker or database failures.

        One relay of a service publishes at a time: it holds the service's relay lock
        (a session advisory lock) for as long as its connection lives; another
        instance (``SCALE=2``, a second pod) stands by until the lock is free — the
        holder stopped, crashed or lost its connection — and then takes over, so the
        outbox is published in one order by one publisher."""
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.database_url) as conn, \
                        psycopg.connect(self.database_url, autocommit=True) as listener:
                    if not self._lead(listener):
                        continue
                    listener.execute("LISTEN outbox")
                    backoff = 0.5
                    self._loop(conn, listener)
            except Exception:  # noqa: BLE001 - any failure: nothing is lost, try again
                log.exception("relay failed; retrying in %.1f s", backoff)
                self.publisher.close()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30)
        self.publisher.close()

    def _lead(self, listener):
        """Take the relay lock, or stand by (polling) until it is free or we stop."""
        standing_by = False
        while not self.stopping.is_set():
            taken = listener.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                                     (f"relay:{self.service}",)).fetchone()[0]
            if taken:
                if standing_by:
                    log.info("relay lock taken: publishing", extra={"service": self.service})
                RELAY_LEADER.labels(self.service).set(1)
                return True
            if not standing_by:
                log.info("another relay publishes; standing by", extra={"service": self.service})
                standing_by = True
                RELAY_LEADER.labels(self.service).set(0)
            self.stopping.wait(self.poll_interval)
        return False

    def _loop(self, conn, listener):
        while not self.stopping.is_set():
            sent = self.relay_once(conn)
            self.measure_lag(conn)
            if sent < self.batch_size:
                # Sleep until a writer commits (NOTIFY) or the poll interval passes.
                for _ in listener.notifies(timeout=self.poll_interval, stop_after=1):
                    pass

    def stop(self, *_):
        self.stopping.set()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the service's config.yaml")
    parser.add_argument("--metrics-port", type=int, help="serve /metrics on this port")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    service = config.get("SERVICE_NAME") or Path(args.config).resolve().parent.name
    configure_logging(service=f"{service}-relay")
    keys = config.get("EVENT_SIGNING_KEYS")
    if not keys or not Path(keys).is_file():
        log.error("no signing keys at EVENT_SIGNING_KEYS=%r: create them with"
                  " python -m shared.signing ensure %s", keys, service)
        raise SystemExit(2)
    relay = Relay(service, config["DATABASE_URL"], config["AMQP_URI"], Signer.from_file(keys),
                  batch_size=int(config.get("RELAY_BATCH_SIZE", 500)),
                  poll_interval=float(config.get("RELAY_POLL_INTERVAL", 1.0)))
    port = args.metrics_port or config.get("RELAY_METRICS_PORT")
    if port and os.environ.get("ASAN_INSTANCE"):  # SCALE=N: instance n on base + 100 n
        port = int(port) + 100 * int(os.environ["ASAN_INSTANCE"])
    if port:
        from prometheus_client import start_http_server

        start_http_server(int(port), addr=str(config.get("RELAY_METRICS_BIND") or "127.0.0.1"))
    signal.signal(signal.SIGTERM, relay.stop)
    signal.signal(signal.SIGINT, relay.stop)
    log.info("relay started", extra={"service": service, "metrics_port": port})
    relay.run()


if __name__ == "__main__":
    main()
