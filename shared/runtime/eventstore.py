"""The event store of one service, on PostgreSQL, and the unit of work around it.

Every change of state is an event appended to a stream (one aggregate: a booking,
a complaint…) with an expected version. In the same transaction, the public form of
each event goes into the outbox, which the relay (``shared.runtime.relay``) publishes to
RabbitMQ — so an event is published if and only if its transaction committed.

Gap-free reading without a lock (issue 15). ``global_position`` comes from a
sequence, handed out in call order, not commit order: a transaction that took
position 7 may commit after the one that took 8, and a reader that has moved past 8
would never see 7. Rather than serialize appends on a table lock (what we did before;
every commit of a service waited for the previous one), each row records ``tx``, the
id of the transaction that wrote it (``xid8``), and readers read in ``(tx,
global_position)`` order only what lies below the *horizon*: the oldest transaction
still running when the reading statement began, ``pg_snapshot_xmin(
pg_current_snapshot())``. Every transaction below it has ended, and every transaction
that writes later has an id at or above it, so no row can ever appear below a horizon
a reader has passed: the reader never skips (tests/integration/test_eventstore.py
shows it with 32 writers, random delays and rollbacks, and shows the naive
``position > last`` reader skipping).

Order within a stream. A transaction gets its id at its first write, which may come
before it read the stream it appends to (a rate-limit row, say), so a later version
could carry a lower id than the one before it. An event's ``tx`` is therefore never
below its stream's previous version's: ``greatest(own id, previous tx)``; the row
still becomes readable only once its own transaction ended (the horizon passes the
larger value only after that).

Costs: one round trip per append — one statement checks the event ids and the
stream's version and writes the events and their outbox rows; no NOTIFY in the
transaction (it would serialize commits across the whole PostgreSQL cluster: the relay
polls). A transaction that stays open long holds the horizon back for every reader and
relay of the cluster (xids are cluster-wide): keep transactions short, batch jobs commit
in chunks, and ``asan_relay_lag_seconds`` alerts when it happens.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from .amqp import private_exchange_name
from ..vocabulary.envelope import Envelope
from ..vocabulary.errors import Refusal

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
    """One stored event: its ``envelope`` (CloudEvents 1.0) at ``version`` of ``stream_id`` and
    at ``global_position`` in the service's log; ``tx`` orders the gap-free global read (see
    the module docstring), set on the events of :meth:`EventStore.read_all`."""

    global_position: int
    stream_id: str
    version: int
    envelope: Envelope
    tx: int | None = None  # the writing transaction's order key (read_all's events)

    @property
    def cursor(self):
        """Where :meth:`EventStore.read_all` goes on after this event."""
        return (self.tx, self.global_position)

    @property
    def type(self):
        """The event's type, e.g. ``"BookingRequested"``."""
        return self.envelope.type

    @property
    def data(self):
        """The event's payload (``dict``), as the catalog's schema of its type and version gives
        it."""
        return self.envelope.data


START = (0, 0)  # the cursor before the first event

_COLUMNS = ("global_position, stream_id, version, event_id, event_type, schema_version, data,"
            " occurred_at, correlation_id, causation_id")


class EventStore:
    """The event log of one service (its ``catalog``). ``read_model``: the service's
    ``read_model`` module, whose ``apply(conn, event)`` the unit of work calls for
    every event it appends, in the same transaction (D-1, issue 16): the one code
    that writes the service's tables, and what ``shared.ops.rebuild`` replays."""

    def __init__(self, catalog, read_model=None):
        self.catalog = catalog
        self.read_model = read_model

    # --- writing -----------------------------------------------------------------
    def append(self, conn, stream_id, expected_version, envelopes, private=()):
        """Append ``envelopes`` to ``stream_id`` and queue their public form.

        Must run inside a transaction of ``conn``. Returns the recorded events.
        Appending events whose ids are all stored already is a no-op (a retried
        command); a stale ``expected_version`` raises :class:`ConcurrencyError`, and so
        does losing the race for the next version to a concurrent transaction (the
        unique ``(stream_id, version)``). One round trip: the statement checks the ids
        and the version and writes the events and their outbox rows only if both
        hold (see :func:`_append_statement`). Envelopes made by the catalogue
        (``checked``) are not validated again. ``private``: outbox rows of private
        messages (:meth:`UnitOfWork.send_private`) written by the same statement,
        whatever happens to the events (they belong to the transaction)."""
        if not envelopes:
            return []
        events, messages, normalized = [], [], []
        for offset, envelope in enumerate(envelopes, start=1):
            if not envelope.checked:
                envelope = envelope.with_data(self.catalog.normalized(envelope.type,
                                                                      envelope.data))
            normalized.append(envelope)
            events.append((offset, envelope.id, envelope.type, envelope.schemaversion,
                           Jsonb(envelope.data), envelope.time, envelope.correlationid,
                           envelope.causationid))
            public = self._public_message(envelope)
            if public:
                messages.append(public)
        ids = [envelope.id for envelope in normalized]
        expected = None if expected_version is ANY_VERSION else expected_version
        with conn.cursor() as cur:
            try:
                cur.execute(_append_statement(len(events), len(messages), len(private)),
                            [ids, stream_id, len(ids), expected, expected, stream_id]
                            + [value for row in events for value in row]
                            + [value for row in messages for value in row]
                            + [value for row in private for value in row])
            except UniqueViolation:
                raise ConcurrencyError(stream_id, expected_version, "unknown") from None
            rows = cur.fetchall()
        stored, current = rows[0][0], rows[0][1] or 0
        if stored == len(ids):
            return []
        if rows[0][2] is None:  # nothing written: the stream moved on
            raise ConcurrencyError(stream_id, expected_version, current)
        positions = {str(event_id): position for _, _, event_id, position in rows}
        return [RecordedEvent(positions[envelope.id], stream_id, current + offset, envelope)
                for offset, envelope in enumerate(normalized, start=1)]

    def _public_message(self, envelope):
        """The outbox row of ``envelope``'s public form, or ``None`` for a private type."""
        public = self.catalog.public_form(envelope)
        if public is None:
            return None
        body = envelope.with_data(public).to_json().encode("utf-8")
        return (envelope.id, self.catalog.exchange, envelope.type, body,
                Jsonb({"correlation_id": envelope.correlationid}))

    # --- reading -----------------------------------------------------------------
    def read_stream(self, conn, stream_id):
        """The events of ``stream_id`` (``[RecordedEvent]``), in version order; ``[]`` for a
        stream that does not exist. Reads in ``conn``'s transaction, takes no lock."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s ORDER BY version",
                        (stream_id,))
            return [self._record(row) for row in cur.fetchall()]

    def read_all(self, conn, after=START, limit=1000, types=None):
        """Up to ``limit`` events after the cursor ``after`` (a :class:`RecordedEvent`'s
        ``cursor``, ``(tx, global_position)``; :data:`START` for the beginning), in
        the store's reading order, below the horizon (see the module): a caller that
        passes the last cursor it got never skips an event nor sees one twice. Call it
        outside a writing transaction (in autocommit, or before the first write)."""
        tx, position = after
        query = (f"SELECT {_COLUMNS}, tx::text AS tx_text FROM events"
                 " WHERE tx < pg_snapshot_xmin(pg_current_snapshot())"
                 " AND (tx, global_position) > (%s::xid8, %s)")
        params = [str(tx), position]
        if types:
            query += " AND event_type = ANY(%s)"
            params.append(list(types))
        query += " ORDER BY tx, global_position LIMIT %s"
        params.append(limit)
        with conn.cursor() as cur:
            cur.execute(query, params)
            return [self._record(row[:-1], tx=int(row[-1])) for row in cur.fetchall()]

    def read_visible(self, conn, after=START, limit=1000):
        """Like :meth:`read_all`, but every event the caller's snapshot sees, without
        the horizon: for a reader holding one snapshot for its whole read
        (``REPEATABLE READ``), which must see exactly what that snapshot's tables
        show — ``shared.ops.rebuild`` comparing read models with their event log."""
        tx, position = after
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS}, tx::text AS tx_text FROM events"
                        " WHERE (tx, global_position) > (%s::xid8, %s)"
                        " ORDER BY tx, global_position LIMIT %s", (str(tx), position, limit))
            return [self._record(row[:-1], tx=int(row[-1])) for row in cur.fetchall()]

    def batches(self, conn, limit=1000, visible=False):
        """The whole log from :data:`START` in the store's reading order, ``limit``
        events at a time (a generator of lists): :meth:`read_all`'s, or with
        ``visible`` :meth:`read_visible`'s — a replay's walk (``shared.ops.rebuild``, the
        read models' own rebuilds)."""
        read = self.read_visible if visible else self.read_all
        after = START
        while batch := read(conn, after=after, limit=limit):
            yield batch
            after = batch[-1].cursor

    def _record(self, row, tx=None):
        (position, stream_id, version, event_id, event_type, schema_version, data,
         occurred_at, correlation_id, causation_id) = row
        # Stored as written, which the catalogue had normalized (``checked``); read
        # at the version this code knows (shared.vocabulary.catalog: upcast data is unchecked).
        envelope = Envelope(
            id=str(event_id), type=event_type, source=self.catalog.source, subject=stream_id,
            time=occurred_at, schemaversion=schema_version, correlationid=str(correlation_id),
            causationid=str(causation_id) if causation_id else None, data=data, checked=True)
        if envelope.type in self.catalog:
            envelope = self.catalog.upcast(envelope)
        return RecordedEvent(position, stream_id, version, envelope, tx)


def _append_statement(events, messages, private=0):
    """One statement appending ``events`` rows and queuing ``messages`` outbox rows
    (and ``private`` outbox rows of private messages, written in any case).

    Parameters: the event ids (uuid[]), the stream id, their count, the expected
    version twice (NULL: any), the stream id again, then per event ``(offset, id,
    type, schema version, data, time, correlation id, causation id)`` and per message
    the outbox row. It writes only when not every id is stored already (a retry) and
    the stream's last version is the expected one, numbering the events after it,
    every row with ``tx = greatest(this transaction's id, the stream's previous tx)``
    (see the module). Returns one row per written event ``(stored ids, last version
    before, event_id, global_position)``, or a single row with NULLs in the last two
    columns when nothing was written."""
    event_rows = ", ".join(["(%s::int, %s::uuid, %s, %s::int, %s::jsonb, %s::timestamptz,"
                            " %s::uuid, %s::uuid)"] * events)
    statement = (
        "WITH stored AS (SELECT count(*) AS n FROM events WHERE event_id = ANY(%s::uuid[])),"
        " last AS (SELECT coalesce(max(version), 0) AS version,"
        "  (array_agg(tx ORDER BY version DESC))[1] AS tx FROM"
        "  (SELECT version, tx FROM events WHERE stream_id = %s"
        "   ORDER BY version DESC LIMIT 1) AS l),"
        " go AS (SELECT last.version, greatest(pg_current_xact_id(),"
        "  coalesce(last.tx, '0'::xid8)) AS tx FROM stored, last WHERE stored.n < %s"
        "  AND (%s::int IS NULL OR last.version = %s::int)),"
        " written AS (INSERT INTO events (stream_id, version, event_id, event_type,"
        " schema_version, data, occurred_at, correlation_id, causation_id, tx)"
        " SELECT %s, go.version + v.column1, v.column2, v.column3, v.column4, v.column5,"
        " v.column6, v.column7, v.column8, go.tx FROM go, (VALUES " + event_rows + ") AS v"
        " RETURNING event_id, global_position)")
    if messages:
        message_rows = ", ".join(["(%s::uuid, %s, %s, %s::bytea, %s::jsonb)"] * messages)
        statement += (
            ", queued AS (INSERT INTO outbox (message_id, exchange, routing_key, body,"
            " headers, tx) SELECT m.*, go.tx FROM go, (VALUES " + message_rows + ") AS m)")
    if private:
        statement += ", sent AS (" + _private_insert(private) + ")"
    return statement + (" SELECT stored.n, last.version, written.event_id,"
                        " written.global_position FROM stored CROSS JOIN last"
                        " LEFT JOIN written ON true")


def _private_insert(count):
    """INSERT of ``count`` outbox rows ``(message_id, exchange, routing_key, body,
    headers)``; their ``tx`` is the writing transaction's id (the column's default)."""
    return ("INSERT INTO outbox (message_id, exchange, routing_key, body, headers) VALUES "
            + ", ".join(["(%s::uuid, %s, %s, %s::bytea, %s::jsonb)"] * count))


class UnitOfWork:
    """One transaction: the service's reads and writes, then its events.

    Events are buffered by :meth:`append` and written by :meth:`flush` as the last
    step before commit (one round trip per stream; see the module), each then applied
    to the service's read models (``EventStore.read_model``) in the same transaction.
    """

    def __init__(self, conn, store, correlation_id, causation_id=None):
        self.conn = conn
        self.store = store
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._pending = []
        self._private = []
        self.recorded = []

    def new_event(self, name, subject, data):
        """A new envelope of type ``name`` about ``subject`` with ``data``, built by the
        service's catalog (validated against the type's schema, which raises
        ``marshmallow.ValidationError`` on bad data) and carrying this unit of work's
        correlation and causation ids. Not buffered: see :meth:`append`."""
        return self.store.catalog.new(name, subject, data, self.correlation_id,
                                      self.causation_id)

    def append(self, stream_id, expected_version, *envelopes):
        """Buffers ``envelopes`` for ``stream_id``, to be written by :meth:`flush` before
        commit. ``expected_version``: the stream's version the caller decided on
        (:data:`NO_STREAM` for a new one, :data:`ANY_VERSION` to skip the check); a mismatch
        raises :class:`ConcurrencyError` at the flush."""
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
        # Written by flush, with the first append's statement (a round trip saved).
        self._private.append((envelope.id, private_exchange_name(self.store.catalog.service),
                              name, envelope.to_json().encode("utf-8"),
                              Jsonb({"correlation_id": self.correlation_id})))
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

    def load(self, stream_id, fold):
        """The write path's first step: ``fold`` (a service's ``domain.fold``, from
        ``(event_type, data)`` pairs in stream order to a state with a ``version``)
        of ``stream_id``'s events, the stream locked for this transaction
        (:meth:`read_stream`)."""
        return fold((event.type, event.data) for event in self.read_stream(stream_id))

    def record(self, stream_id, version, events):
        """The write path's last step: append the decided ``events`` (``(event_type,
        data)`` pairs) to ``stream_id`` expecting ``version`` (the state they were
        decided on); at :meth:`flush` they are written and applied to the read models.
        No events, nothing appended."""
        if events:
            self.append(stream_id, version,
                        *[self.new_event(name, stream_id, data) for name, data in events])

    def decide(self, stream_id, version, decision):
        """The write path in one call: ``decision()`` (a decider applied to the state
        loaded at ``version``) returns the events to :meth:`record`, or raises a
        refusal (``shared.vocabulary.errors.Refusal``). A refusal carrying ``events`` has them
        recorded before it is raised on, and ``ServiceDatabase.run`` commits them
        (the one way a "no" keeps its record). Returns the recorded events."""
        try:
            events = decision()
        except Refusal as refusal:
            self.record(stream_id, version, refusal.events)
            raise
        self.record(stream_id, version, events)
        return events

    def flush(self):
        """Write what was buffered: one statement per stream appended to (consecutive
        appends to one stream, each expecting the version the one before leaves,
        become one), the private messages with the first of them."""
        merged = []
        for stream_id, expected_version, envelopes in self._pending:
            if merged and merged[-1][0] == stream_id and (
                    expected_version is ANY_VERSION
                    or (merged[-1][1] is not ANY_VERSION
                        and expected_version == merged[-1][1] + len(merged[-1][2]))):
                merged[-1][2].extend(envelopes)
            else:
                merged.append((stream_id, expected_version, list(envelopes)))
        private, self._private, self._pending = self._private, [], []
        for stream_id, expected_version, envelopes in merged:
            recorded = self.store.append(self.conn, stream_id, expected_version, envelopes,
                                         private)
            private = ()
            if self.store.read_model is not None:
                for event in recorded:
                    self.store.read_model.apply(self.conn, event)
            self.recorded += recorded
        if private:
            with self.conn.cursor() as cur:
                cur.execute(_private_insert(len(private)),
                            [value for row in private for value in row])


@contextmanager
def unit_of_work(pool, store, correlation_id, causation_id=None):
    """``with unit_of_work(...) as uow:`` commits on a clean exit, rolls back on error."""
    with pool.connection() as conn:
        with conn.transaction():
            uow = UnitOfWork(conn, store, correlation_id, causation_id)
            yield uow
            uow.flush()
