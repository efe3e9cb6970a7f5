"""The kiosk gateway's read models — ``kiosks`` (credentials, status, the throttle
against guessed codes), ``ticket_counters`` (the last number of each centre's series
and day) and ``tickets`` — written only here, as projections of the service's own
events (D-1, issue 16), plus the queries that read them. The write path
(``shared.runtime.eventstore.UnitOfWork.flush``) calls :func:`apply` in the transaction that
appends each event; ``python -m shared.ops.rebuild kiosk_gateway --check`` calls it on
the whole event log and compares.

Ticket numbers (Q-7) stay unique and gap-free under concurrency as before: the
command reads its series' counter row ``FOR UPDATE`` (:func:`last_ticket`; every
kiosk of a centre takes its turn on that one row) and takes the next number; the
projection of ``TicketIssued`` raises the counter and inserts the ticket in one
statement, and when the number is taken already (two first tickets of a day, when
there was no row to lock yet) it raises :class:`~shared.runtime.eventstore.ConcurrencyError`,
which rolls the command back for ``ServiceDatabase.run`` to re-run on fresh state.
The counter takes ``greatest(last, sequence)``, so a replay in the log's order gives
the same counter whatever order two tickets' transactions committed in.

The throttle (wrong codes in a row, ``blocked_until``) is the fold of the kiosk's
``ActivationRefused`` events (the refusal carries ``blocked_until``: it depends on
configuration) and its booked ``TicketIssued`` (which clears it), by the one rule,
:func:`~.domain.evolve_throttle`, applied to the kiosk's row. Its stream grows with
every refusal, so commands read the fold here, in the kiosk's row
(:func:`activation_turn`), after taking the kiosk's activation lock: a kiosk's
activations take their turns. That lock is an advisory one, not the row's ``FOR
UPDATE``: the activation holds it while it waits for booking's answer, and a row
lock would give the transaction an id, holding back the commit horizon of every
relay and reader of the cluster for those seconds (``shared.runtime.eventstore``).

Not state, so not in ``TABLES``: ``kiosk_heartbeats`` (last heartbeat of each kiosk,
telemetry without events, written by :func:`record_heartbeat`; migration 0302).
Events from before issue 16 lack ``credential_hash`` (such a kiosk is rebuilt with an
empty hash, which no token matches: rotate its credential) and ``blocked_until``
(rebuilt with :data:`~.domain.EARLY_POLICY`).
"""
from shared.vocabulary.clock import BAKU
from shared.runtime.eventstore import ConcurrencyError

from . import domain
from .events import (
    CATALOG, ActivationRefused, CounterCredentialRotated, CounterRegistered, CounterRevoked,
    CounterSignedIn, CounterSignedOut, KioskCredentialRotated, KioskRegistered, KioskRevoked,
    TicketCalled, TicketIssued, TicketNoShow, TicketRecalled, TicketServed, TicketTransferred)
from .tickets import Ticket

TABLES = ("kiosks", "ticket_counters", "tickets", "counters")
# What a difference found by shared.ops.rebuild may print: never a credential hash.
CHECK_SHOWN = {"kiosks": ("kiosk_id", "centre", "status", "version", "failures"),
               "ticket_counters": ("centre", "day", "series", "last"),
               "tickets": ("ticket_id", "centre", "day", "number", "kiosk_id", "status"),
               "counters": ("counter_id", "centre", "name", "status", "version")}


def apply(conn, recorded):
    """Write the change ``recorded`` (a ``RecordedEvent`` of this service) makes, read
    as its typed event.

    Raises ``ConcurrencyError`` when a ``TicketIssued`` finds its number taken.
    Deterministic: every value comes from the event (``registered_at`` and
    ``rotated_at`` are its time)."""
    event = CATALOG.read(recorded.type, recorded.data)
    if isinstance(event, KioskRegistered):
        # A kiosk registered before its events carried the hash gets "" (no token matches).
        conn.execute("INSERT INTO kiosks (kiosk_id, centre, credential_hash, status,"
                     " registered_at, version) VALUES (%s, %s, %s, 'active', %s, %s)",
                     (event.kiosk_id, event.centre, _hash_or_empty(event),
                      recorded.envelope.time, recorded.version))
    elif isinstance(event, KioskCredentialRotated):
        conn.execute("UPDATE kiosks SET credential_hash = %s, rotated_at = %s, version = %s"
                     " WHERE kiosk_id = %s", (_hash_or_empty(event), recorded.envelope.time,
                                              recorded.version, event.kiosk_id))
    elif isinstance(event, KioskRevoked):
        conn.execute("UPDATE kiosks SET status = 'revoked', version = %s WHERE kiosk_id = %s",
                     (recorded.version, event.kiosk_id))
    elif isinstance(event, ActivationRefused):
        _throttle(conn, event)
    elif isinstance(event, TicketIssued):
        _issue(conn, event)
        _throttle(conn, event)
    elif type(event) in _COUNTER_EVENTS:
        _COUNTER_EVENTS[type(event)](conn, event, recorded.version)


def _hash_or_empty(event):
    return event.credential_hash if event.credential_hash is not None else ""


def _fields(event):
    """Every field of ``event`` by name (absent ones ``None``): the parameters of a
    statement that names them."""
    return {name: getattr(event, name) for name in event.declared}


# --- counters and the calls of tickets (issue 17 §1) -----------------------------

def _counter_registered(conn, event, version):
    conn.execute("INSERT INTO counters (counter_id, centre, name, credential_hash, status,"
                 " version) VALUES (%s, %s, %s, %s, 'active', %s)",
                 (event.counter_id, event.centre, event.name, event.credential_hash, version))


def _counter_rotated(conn, event, version):
    conn.execute("UPDATE counters SET credential_hash = %s, version = %s WHERE counter_id = %s",
                 (event.credential_hash, version, event.counter_id))


def _counter_services(services):
    def project(conn, event, version):
        conn.execute("UPDATE counters SET services = %s, version = %s WHERE counter_id = %s",
                     (services(event), version, event.counter_id))
    return project


def _counter_revoked(conn, event, version):
    conn.execute("UPDATE counters SET status = 'revoked', services = '{}', version = %s"
                 " WHERE counter_id = %s", (version, event.counter_id))


def _ticket_called(conn, event, version):
    conn.execute("WITH counter AS (UPDATE counters SET current_ticket = %(ticket_id)s"
                 "  WHERE counter_id = %(counter_id)s)"
                 " UPDATE tickets SET status = 'called', service = %(service)s,"
                 " counter_id = %(counter_id)s, called_at = %(called_at)s,"
                 " last_called_at = %(called_at)s, recalls = 0 WHERE ticket_id = %(ticket_id)s",
                 _fields(event))


def _ticket_recalled(conn, event, version):
    conn.execute("UPDATE tickets SET recalls = %(recalls)s, last_called_at = %(at)s"
                 " WHERE ticket_id = %(ticket_id)s", _fields(event))


def _ticket_finished(status, at):
    def project(conn, event, version):
        conn.execute("WITH counter AS (UPDATE counters SET current_ticket = NULL"
                     "  WHERE counter_id = %(counter_id)s AND current_ticket = %(ticket_id)s)"
                     f" UPDATE tickets SET status = '{status}', finished_at = %({at})s"
                     " WHERE ticket_id = %(ticket_id)s", _fields(event))
    return project


def _ticket_transferred(conn, event, version):
    conn.execute("WITH counter AS (UPDATE counters SET current_ticket = NULL"
                 "  WHERE counter_id = %(counter_id)s AND current_ticket = %(ticket_id)s)"
                 " UPDATE tickets SET status = 'waiting', service = %(to_service)s,"
                 " counter_id = NULL, called_at = NULL, recalls = 0"
                 " WHERE ticket_id = %(ticket_id)s", _fields(event))


_COUNTER_EVENTS = {
    CounterRegistered: _counter_registered,
    CounterCredentialRotated: _counter_rotated,
    CounterRevoked: _counter_revoked,
    CounterSignedIn: _counter_services(lambda event: list(event.services)),
    CounterSignedOut: _counter_services(lambda event: []),
    TicketCalled: _ticket_called,
    TicketRecalled: _ticket_recalled,
    TicketServed: _ticket_finished("served", "served_at"),
    TicketNoShow: _ticket_finished("no_show", "at"),
    TicketTransferred: _ticket_transferred,
}


def _throttle(conn, event):
    """The kiosk's row folded by :func:`~.domain.evolve_throttle` with ``event`` (typed)
    (written only when it changes: a walk-in or a refusal other than a wrong code
    leaves it). Locked as it is read: the transaction writes already, and a refusal
    recorded by another transaction is not lost."""
    row = conn.execute("SELECT failures, blocked_until FROM kiosks WHERE kiosk_id = %s"
                       " FOR UPDATE", (event.kiosk_id,)).fetchone()
    if row is None:
        return
    before = domain.Throttle(*row)
    after = domain.evolve_throttle(before, event)
    if after != before:
        conn.execute("UPDATE kiosks SET failures = %s, blocked_until = %s WHERE kiosk_id = %s",
                     (after.failures, after.blocked_until, event.kiosk_id))


def _issue(conn, event):
    """The counter raised and the ticket inserted — one statement; ``ConcurrencyError``
    if its number is taken."""
    inserted = conn.execute(
        "WITH counter AS (INSERT INTO ticket_counters AS c (centre, day, series, last)"
        "  VALUES (%(centre)s, %(date)s, %(key)s, %(sequence)s)"
        "  ON CONFLICT (centre, day, series) DO UPDATE SET last = greatest(c.last, EXCLUDED.last))"
        " INSERT INTO tickets (ticket_id, centre, day, number, sequence, series, service,"
        " booking_id, booked_time, kiosk_id, issued_at) VALUES (%(ticket_id)s, %(centre)s,"
        " %(date)s, %(number)s, %(sequence)s, %(series)s, %(service)s, %(booking_id)s,"
        " %(booked_time)s, %(kiosk_id)s, %(issued_at)s)"
        " ON CONFLICT (centre, day, number) DO NOTHING RETURNING ticket_id",
        {**_fields(event), "key": domain.counter_series(event.service, event.series)}).fetchone()
    if inserted is None:
        raise ConcurrencyError(domain.ticket_stream(event.ticket_id), event.number, "taken")


# --- what commands read (in their transaction, locking) --------------------------

def activation_turn(conn, kiosk_id):
    """The kiosk's :class:`~.domain.Throttle`, read once the kiosk's activation lock
    is held (until the end of the transaction): a kiosk's activations take their
    turns, so a burst of wrong codes sent at once is slowed down like the same codes
    sent one after another. An advisory lock and plain reads: the transaction gets
    no id (it writes nothing) until it records what booking answered."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                 (domain.refusals_stream(kiosk_id),))
    failures, blocked_until = conn.execute(
        "SELECT failures, blocked_until FROM kiosks WHERE kiosk_id = %s",
        (kiosk_id,)).fetchone()
    return domain.Throttle(failures, blocked_until)


def last_ticket(conn, centre, day, service, series):
    """The last number taken in a series that day (0: none), its row locked until
    the end of the transaction."""
    row = conn.execute("SELECT last FROM ticket_counters WHERE centre = %s AND day = %s"
                       " AND series = %s FOR UPDATE",
                       (centre, day, domain.counter_series(service, series))).fetchone()
    return row[0] if row else 0


# --- heartbeats: telemetry, not state -------------------------------------------

def record_heartbeat(conn, kiosk_id, now):
    """The kiosk's last heartbeat is ``now`` (an upsert into ``kiosk_heartbeats``)."""
    conn.execute("INSERT INTO kiosk_heartbeats (kiosk_id, last_seen) VALUES (%s, %s)"
                 " ON CONFLICT (kiosk_id) DO UPDATE SET last_seen = EXCLUDED.last_seen",
                 (kiosk_id, now))


# --- queries --------------------------------------------------------------------

def credential(conn, kiosk_id):
    """``(centre, credential hash, status)`` of a kiosk, or ``None``."""
    return conn.execute("SELECT centre, credential_hash, status FROM kiosks"
                        " WHERE kiosk_id = %s", (kiosk_id,)).fetchone()


def kiosks(conn):
    """Every kiosk as the admin list shows it, by id."""
    rows = conn.execute("SELECT k.kiosk_id, k.centre, k.status, h.last_seen, k.failures"
                        " FROM kiosks k LEFT JOIN kiosk_heartbeats h USING (kiosk_id)"
                        " ORDER BY k.kiosk_id").fetchall()
    return [{"kiosk_id": r[0], "centre": r[1], "status": r[2],
             "last_seen": r[3].isoformat() if r[3] else None, "wrong_codes_in_a_row": r[4]}
            for r in rows]


def kiosks_not_seen(conn, now, stale):
    """{centre: active kiosks without a heartbeat since ``now - stale``}."""
    return dict(conn.execute(
        "SELECT k.centre, count(*) FILTER (WHERE h.last_seen IS NULL OR h.last_seen < %s)"
        " FROM kiosks k LEFT JOIN kiosk_heartbeats h USING (kiosk_id)"
        " WHERE k.status = 'active' GROUP BY k.centre", (now - stale,)).fetchall())


_TICKET_COLUMNS = ("ticket_id, centre, day, number, sequence, series, service, booking_id,"
                   " booked_time, kiosk_id, issued_at")


def _ticket(row):
    return Ticket(str(row[0]), row[1], row[2], row[3], row[4], row[5], row[6],
                  str(row[7]) if row[7] else None, row[8], row[9], row[10].astimezone(BAKU))


def ticket_of_booking(conn, booking_id):
    """The :class:`~.tickets.Ticket` printed for a booking, or ``None``."""
    row = conn.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE booking_id = %s",
                       (booking_id,)).fetchone()
    return _ticket(row) if row else None


def tickets_of_day(conn, centre, day):
    """The tickets of a centre waiting on a day (not called, or transferred and not
    called again), in no particular order."""
    return [_ticket(row) for row in conn.execute(
        f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE centre = %s AND day = %s"
        " AND status = 'waiting'", (centre, day)).fetchall()]


# --- counters: what commands and pages read -------------------------------------

def counter_credential(conn, counter_id):
    """``(centre, credential hash, status)`` of a counter, or ``None``."""
    return conn.execute("SELECT centre, credential_hash, status FROM counters"
                        " WHERE counter_id = %s", (counter_id,)).fetchone()


def active_counter_names(conn, centre):
    """The names of ``centre``'s active counters (issue 17 §1: unique on its board)."""
    return [row[0] for row in conn.execute(
        "SELECT name FROM counters WHERE centre = %s AND status = 'active'", (centre,))]


def current_ticket(conn, counter_id):
    """The id of the ticket the counter has called and not finished, or ``None``."""
    row = conn.execute("SELECT current_ticket FROM counters WHERE counter_id = %s",
                       (counter_id,)).fetchone()
    return str(row[0]) if row and row[0] else None


def waiting_tickets(conn, centre, day, services):
    """The :class:`~.tickets.Ticket` s of ``centre`` waiting on ``day`` in the queues of
    ``services`` (a transferred ticket in its new service's queue), in no order."""
    return [_ticket(row) for row in conn.execute(
        f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE centre = %s AND day = %s"
        " AND status = 'waiting' AND service = ANY(%s)", (centre, day, list(services)))]


def waiting_counts(conn, centre, day):
    """{service code: tickets waiting} at ``centre`` on ``day``."""
    return dict(conn.execute("SELECT service, count(*) FROM tickets WHERE centre = %s"
                             " AND day = %s AND status = 'waiting' GROUP BY service",
                             (centre, day)).fetchall())


def called_ticket(conn, ticket_id):
    """The called ticket as the counter page shows it: ``{ticket_id, number, service,
    series, booked_time, issued_at, called_at, recalls}`` (times as datetimes), or ``None``."""
    row = conn.execute("SELECT ticket_id, number, service, series, booked_time, issued_at,"
                       " called_at, recalls FROM tickets WHERE ticket_id = %s",
                       (ticket_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(("ticket_id", "number", "service", "series", "booked_time", "issued_at",
                     "called_at", "recalls"), (str(row[0]), *row[1:])))


def counter(conn, counter_id):
    """``{counter_id, centre, name, status, services, current_ticket}`` or ``None``."""
    row = conn.execute("SELECT counter_id, centre, name, status, services, current_ticket"
                       " FROM counters WHERE counter_id = %s", (counter_id,)).fetchone()
    return dict(zip(("counter_id", "centre", "name", "status", "services", "current_ticket"),
                    row)) if row else None


def counters(conn):
    """Every counter as the admin list shows it, by id."""
    rows = conn.execute("SELECT counter_id, centre, name, status, services FROM counters"
                        " ORDER BY counter_id").fetchall()
    return [{"counter_id": r[0], "centre": r[1], "name": r[2], "status": r[3],
             "services": list(r[4])} for r in rows]


def board(conn, centre, day, limit=12):
    """The last calls at ``centre`` on ``day``, newest first: ``[(number, counter name,
    service, last called at, recalls, status)]``; a ticket called again after a
    transfer shows its latest call."""
    return conn.execute(
        "SELECT t.number, c.name, t.service, t.last_called_at, t.recalls, t.status"
        " FROM tickets t JOIN counters c ON c.counter_id = t.counter_id"
        " WHERE t.centre = %s AND t.day = %s AND t.last_called_at IS NOT NULL"
        " AND t.status IN ('called', 'served', 'no_show')"
        " ORDER BY t.last_called_at DESC, t.number LIMIT %s", (centre, day, limit)).fetchall()
