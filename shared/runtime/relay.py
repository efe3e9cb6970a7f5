"""The outbox relay: publishes what committed transactions put in a service's outbox.

    python -m shared.runtime.relay services/booking/config.yaml

One loop, pipelined (issue 15): fetch the next batch of outbox rows below the commit
horizon in ``(tx, id)`` order (the order the event store reads in, see
``shared.runtime.eventstore``: no row can ever appear before one already fetched), publish
it, and while RabbitMQ confirms it fetch the batch after it; once confirmed, delete
the batch's rows and record its last sequence number in one short transaction. A
crash anywhere before that commit leaves the rows in place and they are published
again on restart, in the same order, with the same ``message_id`` (= event id), the
same ``sequence`` and the same signature: consumers are idempotent. Writers no longer
NOTIFY (a NOTIFY serializes commits across the cluster): an idle relay polls every
``RELAY_POLL_INTERVAL`` seconds (0.05). It holds no transaction open while it
publishes, so it never holds the horizon back for others.

Every public event (those to ``<service>.events``) leaves numbered and signed (issue
14): the relay adds ``sequence`` — the next number of the service's gap-free count of
public events (table ``public_sequence``, advanced in the batch's transaction), as the
CloudEvents Sequence extension's string of 20 digits
(``shared.vocabulary.envelope.format_sequence``; the JSON integer of contract 1 while
``EVENT_SEQUENCE_FORMAT`` is ``integer``, docs/EVENTS.md, "Contract versions"), and as the integer
AMQP header ``sequence`` — and then ``signature``, a JWS of the event's text by the service's active
key (``EVENT_SIGNING_KEYS``, ``shared.ops.signing``). Both are deterministic: a batch
published again after a crash goes out byte for byte the same. The events exchange
also routes every public event into the service's stream ``<service>.events.stream``
(a binding made by ``shared.ops.topology``), so the one confirmed publish puts it in
both, in the same order.

``AMQP_URI`` may name several nodes of a RabbitMQ cluster (``amqp://a/;amqp://b/``):
when the node it publishes through dies, the batch's transaction rolls back (its rows
stay, in their order) and the batch goes out again through another node.
"""
import argparse
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import psycopg

from .amqp import CLOUDEVENTS_JSON, BatchPublisher, events_exchange_name, private_exchange_name
from .config import load_config
from ..vocabulary.envelope import SEQUENCE_FORMATS, format_sequence
from .logs import configure_logging
from .metrics import EVENTS_PUBLISHED, RELAY_LAG, RELAY_LEADER, RELAY_PENDING, at_zero
from .settings import setting
from .signatures import Signer

log = logging.getLogger("shared.runtime.relay")

FAULT_ENV = "ASAN_RELAY_FAULT"  # test hook: "after-fetch" or "after-publish" → SIGKILL self


def _fault_point(name):
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class Relay:
    """Publishes one service's outbox. ``signer``: a :class:`shared.runtime.signatures.Signer` of
    the service's key set (every public event is signed; there is no unsigned mode).
    ``sequence_format``: the service's ``EVENT_SEQUENCE_FORMAT``, "string" (CloudEvents
    Sequence, contract 2) or "integer" (contract 1); ``ValueError`` for another."""

    def __init__(self, service, database_url, amqp_uri, signer, *, sequence_format,
                 batch_size=500, poll_interval=0.05):
        if sequence_format not in SEQUENCE_FORMATS:
            raise ValueError(f"EVENT_SEQUENCE_FORMAT is one of {SEQUENCE_FORMATS},"
                             f" not {sequence_format!r}")
        self.sequence_format = sequence_format
        self.service = service
        self.public_exchange = events_exchange_name(service)
        self.signer = signer
        self.database_url = database_url
        self.publisher = BatchPublisher(amqp_uri)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.stopping = threading.Event()
        self._lag_measured = 0.0
        # The outbox holds the service's public and private messages (shared.runtime.eventstore).
        at_zero(EVENTS_PUBLISHED, [service], [self.public_exchange, private_exchange_name(service)])

    def _fetch(self, conn, after):
        """The next batch after the cursor ``after`` = (tx, id), below the horizon;
        in a transaction of its own that writes nothing (so it takes no xid)."""
        rows = conn.execute(
            # tx as text has its own name: ORDER BY tx must sort by the xid8, not by
            # its text ("10416" < "8818").
            "SELECT id, message_id, exchange, routing_key, body, headers, tx::text AS tx_text"
            " FROM outbox"
            " WHERE tx < pg_snapshot_xmin(pg_current_snapshot())"
            " AND (tx, id) > (%s::xid8, %s) ORDER BY tx, id LIMIT %s",
            (str(after[0]), after[1], self.batch_size)).fetchall()
        conn.commit()
        return rows

    def _settle(self, conn, batch):
        """The batch is confirmed: delete its rows, record its last sequence number."""
        ids, last, public = batch[:3]
        with conn.transaction():
            if public:
                conn.execute("UPDATE public_sequence SET last = %s", (last,))
            conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", (ids,))

    def relay(self, conn):
        """Relay until :meth:`stop` or a failure (which the caller retries from the
        rows still in the outbox). See the module for the pipeline."""
        last = conn.execute("SELECT last FROM public_sequence").fetchone()[0]
        conn.commit()
        cursor, in_flight = (0, 0), None
        while not self.stopping.is_set():
            rows = self._fetch(conn, cursor)  # overlaps with the confirms of in_flight
            if rows:
                _fault_point("after-fetch")
            if in_flight is not None:
                self.publisher.wait_confirms()
                _fault_point("after-publish")
                self._settle(conn, in_flight)
                for exchange in in_flight[3]:
                    EVENTS_PUBLISHED.labels(self.service, exchange).inc()
                in_flight = None
            if not rows:
                self._measure_lag_now_and_then(conn, idle=True)
                self.stopping.wait(self.poll_interval)
                continue
            cursor = (int(rows[-1][6]), rows[-1][0])
            numbered, public = self._number_and_sign(rows, last)
            last += public
            self.publisher.send(self._message(row) for row in numbered)
            in_flight = ([row[0] for row in rows], last, public, [row[2] for row in rows])
            self._measure_lag_now_and_then(conn)
        if in_flight is not None:  # stopping: finish what is out, or leave it to the next
            self.publisher.wait_confirms()
            self._settle(conn, in_flight)

    def relay_once(self, conn):
        """Publish one batch, confirmed and deleted (tools and tests); returns how
        many messages went out."""
        last = conn.execute("SELECT last FROM public_sequence").fetchone()[0]
        conn.commit()
        rows = self._fetch(conn, (0, 0))
        if not rows:
            return 0
        numbered, public = self._number_and_sign(rows, last)
        self.publisher.publish_batch(self._message(row) for row in numbered)
        self._settle(conn, ([row[0] for row in rows], last + public, public))
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row[2]).inc()
        return len(rows)

    def _number_and_sign(self, rows, last):
        """(the batch with each public event's body numbered from ``last`` + 1 and
        signed, how many were public)."""
        numbered, public = [], 0
        for row in rows:
            if row[2] == self.public_exchange:
                public += 1
                body = bytes(row[4])
                sequence = json.dumps(format_sequence(last + public, self.sequence_format))
                body = self.signer.sign_event(body[:-1] + b',"sequence":%s}' % sequence.encode())
                row = (*row[:4], body, dict(row[5] or {}, sequence=last + public))
            numbered.append(row[:6])
        return numbered, public

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
        """Sets ``asan_outbox_pending`` (messages) and ``asan_relay_lag_seconds`` (age of the
        oldest outbox row, by the database's clock, in seconds) and returns the pending
        count; commits ``conn``'s read."""
        pending, lag = conn.execute(
            "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)"
            " FROM outbox").fetchone()
        conn.commit()
        RELAY_PENDING.labels(self.service).set(pending)
        RELAY_LAG.labels(self.service).set(float(lag))
        return pending

    def _measure_lag_now_and_then(self, conn, idle=False):
        """The lag gauges, at most once a second (a count over the outbox is not free
        while it is long)."""
        now = time.monotonic()
        if now - self._lag_measured >= 1.0:
            self._lag_measured = now
            self.measure_lag(conn)

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
                        psycopg.connect(self.database_url, autocommit=True) as leader:
                    if not self._lead(leader):
                        continue
                    backoff = 0.5
                    self.relay(conn)
            except Exception:  # any failure: nothing is lost, try again
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

    def stop(self, *_):
        """Asks the loop to stop after the batch in hand (a signal handler: SIGTERM, SIGINT)."""
        self.stopping.set()


def main(argv=None):
    """``python -m shared.runtime.relay services/<name>/config.yaml [--metrics-port N]``: runs the
    service's relay until SIGTERM; exits with status 2 when the signing keys
    (``EVENT_SIGNING_KEYS``) are missing, ``ValueError`` when their active key is not
    the service's own (``shared.runtime.signatures.Signer``),
    ``shared.runtime.settings.SettingsError`` when the config lacks a platform key
    (``SERVICE_NAME``, ``EVENT_SIGNING_KEYS``, ``EVENT_SEQUENCE_FORMAT``, ``RELAY_METRICS_PORT``: 0
    for none, ``RELAY_METRICS_BIND``). ``RELAY_BATCH_SIZE`` (500 events) and
    ``RELAY_POLL_INTERVAL`` (0.05 s) are tunables no service's config declares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the service's config.yaml")
    parser.add_argument("--metrics-port", type=int, help="serve /metrics on this port")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    service = setting(config, "SERVICE_NAME", str)
    configure_logging(service=f"{service}-relay")
    keys = setting(config, "EVENT_SIGNING_KEYS", str)
    if not Path(keys).is_file():
        log.error("no signing keys at EVENT_SIGNING_KEYS=%r: create them with"
                  " python -m shared.ops.signing ensure %s", keys, service)
        raise SystemExit(2)
    # Tunables no config.yaml declares: their one default is Relay's.
    tunables = {name: kind(config[key]) for key, name, kind in (
        ("RELAY_BATCH_SIZE", "batch_size", int), ("RELAY_POLL_INTERVAL", "poll_interval", float))
        if key in config}
    relay = Relay(service, config["DATABASE_URL"], config["AMQP_URI"],
                  Signer.from_file(keys, service),
                  **tunables,
                  sequence_format=setting(config, "EVENT_SEQUENCE_FORMAT", str))
    port = args.metrics_port or setting(config, "RELAY_METRICS_PORT", int)
    if port and os.environ.get("ASAN_INSTANCE"):  # SCALE=N: instance n on base + 100 n
        port = int(port) + 100 * int(os.environ["ASAN_INSTANCE"])
    if port:
        from prometheus_client import start_http_server

        start_http_server(int(port), addr=setting(config, "RELAY_METRICS_BIND", str))
    signal.signal(signal.SIGTERM, relay.stop)
    signal.signal(signal.SIGINT, relay.stop)
    log.info("relay started", extra={"service": service, "metrics_port": port})
    relay.run()


if __name__ == "__main__":
    main()
