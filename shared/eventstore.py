"""The event store of one service, on PostgreSQL, and the unit of work around it.

Every change of state is an event appended to a stream (one aggregate: a booking,
a complaint…) with an expected version. In the same transaction, the public form of
each event goes into the outbox, which the relay (``shared.relay``) publishes to
RabbitMQ — so an event is published if and only if its transaction committed.

Gap-free global log. ``global_position`` comes from a sequence, and sequences are
handed out in call order, not commit order: a transaction that took position 7 may
commit after the one that took 8, and a reader that has already moved past 8 would
never see 7. We close that gap the way the eventsourcing library does: the appending
transaction takes an EXCLUSIVE lock on ``events`` right before it inserts and holds it
until commit, so positions are handed out in commit order. The lock is taken as the
very last step of a unit of work (events are buffered until commit), which keeps it
short and keeps it from being held while the transaction waits on anything else.
The cost — appends of one service are serialized for the length of a commit — is
measured in docs/BENCHMARKS.md.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from .amqp import private_exchange_name
from .envelope import Envelope

NO_STREAM = 0  # expected version of a stream that must not exist yet
ANY_VERSION = None  # expected version when the caller does not care


class ConcurrencyError(Exception):
    """Another writer appended to the stream since the caller read it."""

    def __init__(self, stream_id, expected, actual):
        super().__init__(f"stream {stream_id}: expected version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class AlreadyHandled(Exception):
    """The consumer has already processed this event: nothing more to do."""


@dataclass(frozen=True)
class RecordedEvent:
    global_position: int
    stream_id: str
    version: int
    envelope: Envelope

    @property
    def type(self):
        return self.envelope.type

    @property
    def data(self):
        return self.envelope.data


_COLUMNS = ("global_position, stream_id, version, event_id, event_type, schema_version, data,"
            " occurred_at, correlation_id, causation_id")


class EventStore:
    def __init__(self, catalog):
        self.catalog = catalog

    # --- writing -----------------------------------------------------------------
    def append(self, conn, stream_id, expected_version, envelopes):
        """Append ``envelopes`` to ``stream_id`` and queue their public form.

        Must run inside a transaction of ``conn``. Returns the recorded events.
        Appending events whose ids are all stored already is a no-op (a retried
        command); a stale ``expected_version`` raises :class:`ConcurrencyError`.
        """
        if not envelopes:
            return []
        with conn.cursor() as cur:
            cur.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            ids = [envelope.id for envelope in envelopes]
            cur.execute("SELECT count(*) FROM events WHERE event_id = ANY(%s::uuid[])", (ids,))
            stored = cur.fetchone()[0]
            if stored == len(ids):
                return []
            cur.execute("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = %s",
                        (stream_id,))
            current = cur.fetchone()[0]
            if expected_version is not ANY_VERSION and current != expected_version:
                raise ConcurrencyError(stream_id, expected_version, current)
            recorded = []
            for offset, envelope in enumerate(envelopes, start=1):
                data = self.catalog.normalized(envelope.type, envelope.data)
                envelope = envelope.with_data(data)
                try:
                    cur.execute(
                        "INSERT INTO events (stream_id, version, event_id, event_type,"
                        " schema_version, data, occurred_at, correlation_id, causation_id)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING global_position",
                        (stream_id, current + offset, envelope.id, envelope.type,
                         envelope.schemaversion, Jsonb(data), envelope.time,
                         envelope.correlationid, envelope.causationid))
                except UniqueViolation:
                    raise ConcurrencyError(stream_id, expected_version, "unknown") from None
                position = cur.fetchone()[0]
                recorded.append(RecordedEvent(position, stream_id, current + offset, envelope))
                self._queue_public(cur, envelope)
            cur.execute("SELECT pg_notify('outbox', '')")
        return recorded

    def _queue_public(self, cur, envelope):
        public = self.catalog.public_data(envelope.type, envelope.data)
        if public is None:
            return
        body = envelope.with_data(public).to_json().encode("utf-8")
        queue_message(cur, envelope.id, self.catalog.exchange, envelope.type, body,
                      {"correlation_id": envelope.correlationid})

    # --- reading -----------------------------------------------------------------
    def read_stream(self, conn, stream_id):
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s ORDER BY version",
                        (stream_id,))
            return [self._record(row) for row in cur.fetchall()]

    def read_all(self, conn, after=0, limit=1000, types=None):
        """Events after global position ``after``, in commit order."""
        query = f"SELECT {_COLUMNS} FROM events WHERE global_position > %s"
        params = [after]
        if types:
            query += " AND event_type = ANY(%s)"
            params.append(list(types))
        query += " ORDER BY global_position LIMIT %s"
        params.append(limit)
        with conn.cursor() as cur:
            cur.execute(query, params)
            return [self._record(row) for row in cur.fetchall()]

    def _record(self, row):
        (position, stream_id, version, event_id, event_type, schema_version, data,
         occurred_at, correlation_id, causation_id) = row
        envelope = Envelope(
            id=str(event_id), type=event_type, source=self.catalog.source, subject=stream_id,
            time=occurred_at, schemaversion=schema_version, correlationid=str(correlation_id),
            causationid=str(causation_id) if causation_id else None, data=data)
        # Stored as written; read at the version this code knows (shared.catalog).
        if envelope.type in self.catalog:
            envelope = self.catalog.upcast(envelope)
        return RecordedEvent(position, stream_id, version, envelope)


def queue_message(cur, message_id, exchange, routing_key, body, headers=None):
    """Put one message into the outbox; the relay publishes it after commit."""
    cur.execute(
        "INSERT INTO outbox (message_id, exchange, routing_key, body, headers)"
        " VALUES (%s, %s, %s, %s, %s)",
        (message_id, exchange, routing_key, body, Jsonb(headers or {})))


class UnitOfWork:
    """One transaction: the service's reads and writes, then its events.

    Events are buffered by :meth:`append` and written by :meth:`flush` as the last
    step before commit (see the module docstring for why).
    """

    def __init__(self, conn, store, correlation_id, causation_id=None):
        self.conn = conn
        self.store = store
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._pending = []
        self.recorded = []

    def new_event(self, name, subject, data):
        return self.store.catalog.new(name, subject, data, self.correlation_id,
                                      self.causation_id)

    def append(self, stream_id, expected_version, *envelopes):
        self._pending.append((stream_id, expected_version, list(envelopes)))

    def emit(self, stream_id, expected_version, name, data):
        """Create and buffer one event of type ``name`` on ``stream_id``."""
        envelope = self.new_event(name, stream_id, data)
        self.append(stream_id, expected_version, envelope)
        return envelope

    def send_private(self, name, subject, data):
        """A message that must not reach outside systems (e.g. an email with a code,
        for the notification service), as an envelope on the service's private
        exchange, published iff this transaction commits. It is not stored in the
        event log, and the relay deletes the outbox row once RabbitMQ confirmed it, so
        a secret in ``data`` does not stay in the database."""
        envelope = self.new_event(name, subject, data)
        with self.conn.cursor() as cur:
            queue_message(cur, envelope.id, private_exchange_name(self.store.catalog.service),
                          name, envelope.to_json().encode("utf-8"),
                          {"correlation_id": self.correlation_id})
            cur.execute("SELECT pg_notify('outbox', '')")
        return envelope

    def claim(self, consumer, event_id):
        """Record that ``consumer`` processed ``event_id`` in this transaction.
        Raises :class:`AlreadyHandled` when it already had."""
        with self.conn.cursor() as cur:
            cur.execute("INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s)"
                        " ON CONFLICT DO NOTHING", (consumer, event_id))
            if cur.rowcount == 0:
                raise AlreadyHandled(f"{consumer} already processed {event_id}")

    def read_stream(self, stream_id):
        """The stream's events, as of now, for a command about to decide on them.

        The stream is locked for the rest of the transaction (an advisory lock on
        its id): two commands on one aggregate (a double click, eight wrong codes
        typed at once) then take their turns, each deciding on what the other
        committed, instead of both deciding on the same past and one losing the
        append race. Readers that only query do not take it."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (stream_id,))
        return self.store.read_stream(self.conn, stream_id)

    def flush(self):
        for stream_id, expected_version, envelopes in self._pending:
            self.recorded += self.store.append(self.conn, stream_id, expected_version, envelopes)
        self._pending = []


@contextmanager
def unit_of_work(pool, store, correlation_id, causation_id=None):
    """``with unit_of_work(...) as uow:`` commits on a clean exit, rolls back on error."""
    with pool.connection() as conn:
        with conn.transaction():
            uow = UnitOfWork(conn, store, correlation_id, causation_id)
            yield uow
            uow.flush()
