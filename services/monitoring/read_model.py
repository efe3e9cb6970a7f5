"""The monitoring service's read models (M-1 … M-4, D-1, issue 16), written only here.

Two kinds of tables, two sources of events:

* ``READ_MODELS`` (bookings, emails, FIN queries, complaints, tickets, kiosks, and
  since issue 17 the tickets' calls, transfers and ends at the counters, the
  bookings' reschedules and reminders, the closures…) are projections of the
  *other* services' public events. :func:`rows` is the one place
  that knows what each event changes (as :class:`Row` changes); the live consumers
  (``service.py``, in the transaction that claims the events in
  ``processed_events``) and both rebuilds write them with :func:`apply_public_many`
  — a batch in a few multi-row statements — so they cannot disagree. Every
  statement is an upsert that sets the columns one event type owns, and a row may
  be started by any of its events (a booking's ``CodeConfirmed`` may be read before
  its ``BookingRequested`` after a retry). So applying an event twice, or the events
  of several services in any order, leaves the same rows.
* ``control_reports`` is the projection of the service's *own* events: the unit of
  work calls :func:`apply` for every event it appends (``Database(...,
  read_model=read_model)``); a ``ControlReportKept`` inserts its row, with
  ``generated_at`` the event's time. The daily report's uniqueness (M-4) is decided
  on its stream (``domain.py``); the unique index stays as the last guard: a second
  daily row raises ``ReportAlreadyKept`` and rolls the command back.

``python -m shared.ops.rebuild monitoring --check`` (:func:`rebuild`) replays into a
scratch schema, in one snapshot of this database, every event of every source
service's log that the live consumers had *processed* in that snapshot (their
``processed_events`` rows), and this service's own log. The live consumers fill the
tables asynchronously: an event committed in its service but not yet delivered
here is in flight, not a difference — comparing only what was processed makes the
check exact on a running platform (an event processed is in its source's log, which
is read after this snapshot was taken, so it is always found). Reports kept before
``ControlReportKept`` existed have no stored body and show as live-only rows.
``python -m services.monitoring.rebuild`` remains the way to rebuild from scratch
(it empties the tables and the processed records, then applies every event).

Queries of the kept reports are here too; the report's figures are computed by
``report.py`` from these tables.
"""
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from services.booking import events as booking_events
from services.complaints import events as complaints_events
from services.kiosk_gateway import events as kiosk_events
from services.notification import events as notification_events
from services.registry import events as registry_events
from shared.runtime.eventstore import EventStore

from .domain import ReportAlreadyKept
from .events import CATALOG, ControlReportKept

# The services monitoring reads, and the catalogue whose public schemas it reads them by.
CATALOGS = {"booking": booking_events.CATALOG, "notification": notification_events.CATALOG,
            "kiosk_gateway": kiosk_events.CATALOG, "registry": registry_events.CATALOG,
            "complaints": complaints_events.CATALOG}


@dataclass(frozen=True)
class Row:
    """One row change an event makes: ``values`` (``key`` first) into ``table``;
    ``upsert``: set them on an existing row (the columns this event type owns);
    otherwise the row is inserted once and never changed (``ON CONFLICT DO NOTHING``)."""
    table: str
    key: str
    values: dict
    upsert: bool = True


def upsert(table, key, key_value, values):
    """A :class:`Row` that sets ``values`` on the row of ``table`` whose ``key`` is
    ``key_value``, starting the row if there is none."""
    return Row(table, key, {key: key_value, **values})


def insert_once(table, key, values):
    """A :class:`Row` inserted once into ``table`` (``values`` hold its ``key``); applied
    again, it changes nothing."""
    return Row(table, key, values, upsert=False)


# What monitoring makes of each public event type of each service it reads: a
# projection (``@projects``) or a reason to ignore it (``IGNORED``). Every public type
# of every service is in exactly one of the two (tests/unit/monitoring/
# test_event_coverage.py): a type a service adds is a decision here, not a silence.
PROJECTIONS = {source: {} for source in CATALOGS}

IGNORED = {
    "booking": {
        "CodeRejected": "a wrong code typed: the funnel counts what became of the booking",
        "OrderCodeReissued": "a lost order code sent again: nothing of the visit changes",
    },
    "notification": {},
    "kiosk_gateway": {
        "TicketRecalled": "a ticket called again: no figure changes until it ends",
        "CounterRegistered": "the counters' own state, not the visit's",
        "CounterRevoked": "the counters' own state, not the visit's",
        "CounterSignedIn": "the counters' own state, not the visit's",
        "CounterSignedOut": "the counters' own state, not the visit's",
        "CounterCredentialRotated": "a counter's credential: no figure",
        "KioskCredentialRotated": "a kiosk's credential: no figure",
    },
    "registry": {
        "PopulationImported": "a bulk import of the synthetic population: no query, no figure",
    },
    "complaints": {
        "ComplaintAssigned": "who reviews a complaint: the report counts deadlines and answers",
    },
}


def projects(source, *event_types):
    """Register the decorated ``function(event, envelope)`` — a generator of
    :class:`Row` s from the typed public ``event`` and its ``envelope`` (id, time) —
    as the projection of ``event_types`` of ``source``. ``ValueError`` at import for
    a type that is not a public event of ``source`` (a misspelt or removed name)."""
    def register(function):
        for event_type in event_types:
            if event_type not in CATALOGS[source].public_types():
                raise ValueError(f"{event_type} is not a public event of {source}")
            PROJECTIONS[source][event_type] = function
        return function
    return register


def _slot(event):
    return {"centre": event.centre, "service": event.service,
            "visit_date": event.date, "visit_time": event.time}


# --- booking ---------------------------------------------------------------------
@projects("booking", "BookingRequested")
def _booking_requested(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        **_slot(event), "channel": event.channel, "requested_at": event.requested_at,
        "requested_logged_at": envelope.time})


@projects("booking", "CodeConfirmed")
def _code_confirmed(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        **_slot(event), "confirmed_at": event.confirmed_at,
        "confirmed_logged_at": envelope.time})


@projects("booking", "BookingActivated")
def _booking_activated(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        **_slot(event), "activated_at": event.activated_at})


@projects("booking", "BookingLapsed")
def _booking_lapsed(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        **_slot(event), "lapsed_at": event.lapsed_at})


@projects("booking", "BookingCancelled")
def _booking_cancelled(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        "cancelled_at": event.cancelled_at, "cancelled_by": event.by})


@projects("booking", "BookingVoided")
def _booking_voided(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id, {
        "voided_at": envelope.time, "void_reason": event.reason})


@projects("booking", "HoldExpired")
def _hold_expired(event, envelope):
    yield upsert("bookings", "booking_id", event.booking_id,
                 {"hold_expired_at": event.expired_at})


@projects("booking", "BookingRescheduled")
def _booking_rescheduled(event, envelope):
    """Every move is kept; the latest holds (report.py)."""
    yield insert_once("booking_reschedules", "event_id", {
        "event_id": envelope.id, "booking_id": event.booking_id, "centre": event.centre,
        "service": event.service, "visit_date": event.date, "visit_time": event.time,
        "previous_date": event.previous_date, "previous_time": event.previous_time,
        "rescheduled_at": event.rescheduled_at})


@projects("booking", "BookingReminded")
def _booking_reminded(event, envelope):
    """Once per booking."""
    yield insert_once("booking_reminders", "booking_id", {
        **_slot(event), "booking_id": event.booking_id, "reminded_at": event.reminded_at})


@projects("booking", "CentreClosed")
def _centre_closed(event, envelope):
    """Its cancellations come as BookingCancelled."""
    yield insert_once("closures", "closure_id", {
        "closure_id": event.closure_id, "centre": event.centre, "service": event.service,
        "date": event.date, "reason": event.reason, "closed_at": event.closed_at,
        "cancelled": event.cancelled})


@projects("booking", "BookingRefused")
def _booking_refused(event, envelope):
    yield insert_once("booking_refusals", "refusal_id", {
        "refusal_id": event.refusal_id, "refused_at": event.refused_at or envelope.time,
        "channel": event.channel, "centre": event.centre, "service": event.service,
        "reasons": Jsonb(event.reasons)})


# --- notification ----------------------------------------------------------------
FAILURES = {"EmailTemporaryFailure": "temporary", "EmailPermanentFailure": "permanent",
            "EmailTechnicalFailure": "technical"}


def _email(event):
    return {"template": event.template, "reference": event.reference}


@projects("notification", "EmailCreated")
def _email_created(event, envelope):
    yield upsert("emails", "intent_id", event.intent_id,
                 {**_email(event), "created_logged_at": envelope.time})


@projects("notification", "EmailDelivered")
def _email_delivered(event, envelope):
    yield upsert("emails", "intent_id", event.intent_id,
                 {**_email(event), "delivered_logged_at": envelope.time,
                  "delivered_attempt": event.attempt})


@projects("notification", "EmailSuperseded")
def _email_superseded(event, envelope):
    yield upsert("emails", "intent_id", event.intent_id,
                 {**_email(event), "superseded_logged_at": envelope.time,
                  "superseded_by": event.superseded_by})


@projects("notification", *FAILURES)
def _email_failed(event, envelope):
    kind = FAILURES[event.event_type]
    yield insert_once("email_attempt_failures", "event_id", {
        "event_id": envelope.id, "intent_id": event.intent_id, "failure_type": kind,
        "will_retry": event.will_retry, "logged_at": envelope.time})
    if not event.will_retry:
        yield upsert("emails", "intent_id", event.intent_id, {
            **_email(event), "failed_logged_at": envelope.time, "failure_type": kind,
            "failure_smtp_code": event.smtp_code})


# --- kiosk gateway ---------------------------------------------------------------
@projects("kiosk_gateway", "TicketIssued")
def _ticket_issued(event, envelope):
    yield insert_once("tickets", "ticket_id", {
        "ticket_id": event.ticket_id, "centre": event.centre, "service": event.service,
        "date": event.date, "series": event.series, "booking_id": event.booking_id,
        "issued_at": event.issued_at})


@projects("kiosk_gateway", "ActivationRefused")
def _activation_refused(event, envelope):
    yield insert_once("activation_refusals", "event_id", {
        "event_id": envelope.id, "kiosk_id": event.kiosk_id, "centre": event.centre,
        "reason": event.reason, "at": event.at})


@projects("kiosk_gateway", "KioskRegistered")
def _kiosk_registered(event, envelope):
    yield upsert("kiosks", "kiosk_id", event.kiosk_id,
                 {"centre": event.centre, "registered_logged_at": envelope.time})


@projects("kiosk_gateway", "KioskRevoked")
def _kiosk_revoked(event, envelope):
    yield upsert("kiosks", "kiosk_id", event.kiosk_id,
                 {"centre": event.centre, "revoked_logged_at": envelope.time})


# A ticket at a counter: every row carries the ticket's ``date`` (the Baku day it was
# issued), which the report counts the visit on, even when it is called or served
# after midnight.
def _ticket(event):
    return {"ticket_id": event.ticket_id, "centre": event.centre, "date": event.date}


@projects("kiosk_gateway", "TicketCalled")
def _ticket_called(event, envelope):
    yield insert_once("ticket_calls", "event_id", {
        "event_id": envelope.id, **_ticket(event), "service": event.service,
        "counter_id": event.counter_id, "first_call": event.first_call,
        "issued_at": event.issued_at, "called_at": event.called_at})


@projects("kiosk_gateway", "TicketTransferred")
def _ticket_transferred(event, envelope):
    yield insert_once("ticket_transfers", "event_id", {
        "event_id": envelope.id, **_ticket(event), "from_service": event.from_service,
        "to_service": event.to_service, "counter_id": event.counter_id, "at": event.at})


# TicketServed and TicketNoShow: the same columns, so a batch keeps the first end.
@projects("kiosk_gateway", "TicketServed")
def _ticket_served(event, envelope):
    yield insert_once("ticket_outcomes", "ticket_id", {
        **_ticket(event), "outcome": "served", "service": event.service,
        "counter_id": event.counter_id, "called_at": event.called_at,
        "at": event.served_at, "recalls": None})


@projects("kiosk_gateway", "TicketNoShow")
def _ticket_no_show(event, envelope):
    yield insert_once("ticket_outcomes", "ticket_id", {
        **_ticket(event), "outcome": "no_show", "service": event.service,
        "counter_id": event.counter_id, "called_at": None, "at": event.at,
        "recalls": event.recalls})


# --- registry --------------------------------------------------------------------
@projects("registry", "FinQueried")
def _fin_queried(event, envelope):
    yield insert_once("fin_queries", "query_id", {
        "query_id": event.query_id, "asked_at": event.asked_at, "method": event.method,
        "outcome": event.outcome, "latency_ms": event.latency_ms, "channel": event.channel})


# --- complaints ------------------------------------------------------------------
@projects("complaints", "ComplaintFiled")
def _complaint_filed(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id, {
        "service": event.service, "channel": event.channel, "filed_on": event.filed_on,
        "filed_logged_at": envelope.time, "due_on": event.due_on})


@projects("complaints", "ComplaintAcknowledged")
def _complaint_acknowledged(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id,
                 {"acknowledged_by": event.by})


@projects("complaints", "ComplaintAnswered")
def _complaint_answered(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id, {
        "answered_at": event.answered_at, "decision": event.decision,
        "answered_late": event.late})


@projects("complaints", "ComplaintWithdrawn")
def _complaint_withdrawn(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id,
                 {"withdrawn_at": event.withdrawn_at})


@projects("complaints", "ComplaintDeadlineApproaching")
def _complaint_warned(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id,
                 {"due_on": event.due_on, "warned_logged_at": envelope.time})


@projects("complaints", "ComplaintOverdue")
def _complaint_overdue(event, envelope):
    yield upsert("complaints", "complaint_id", event.complaint_id,
                 {"due_on": event.due_on, "overdue_logged_at": envelope.time})


def source_of(envelope):
    """``/asan/booking`` → ``booking``."""
    return envelope.source.rsplit("/", 1)[-1]


def rows(envelope):
    """The row changes of one public event of another service (none for a type in
    ``IGNORED``). ``LookupError`` for a public type monitoring neither projects nor
    ignores; ``UnknownEventType`` for one its source does not publish."""
    source = source_of(envelope)
    event = CATALOGS[source].read_public(envelope)
    projection = PROJECTIONS[source].get(event.event_type)
    if projection is not None:
        return list(projection(event, envelope))
    if event.event_type in IGNORED[source]:
        return []
    raise LookupError(f"monitoring neither projects nor ignores {source}'s {event.event_type}")


# Rows per statement: well under PostgreSQL's 65,535 parameters at the widest table.
CHUNK = 1000


def apply_public_many(conn, envelopes):
    """Apply ``envelopes`` (public events of the other services), in this order, with
    one multi-row statement per table and kind of change (at most ``CHUNK`` rows
    each) instead of one per event.

    The same rows as applying them one event at a time: changes of one kind to one
    row are folded first — an upsert's later values win, an insert-once keeps the
    first — so no statement touches a row twice; and statements of different kinds
    commute, since each sets only the columns its event type owns (see the module).
    Rows are written in key order, so two concurrent batches lock them alike."""
    groups = {}
    for envelope in envelopes:
        for row in rows(envelope):
            group = groups.setdefault((row.table, row.key, row.upsert, tuple(row.values)), {})
            value = str(row.values[row.key])  # a UUID or its text: one row
            if row.upsert or value not in group:
                group[value] = row.values
    for (table, key, is_upsert, columns), by_key in groups.items():
        ordered = [by_key[value] for value in sorted(by_key)]
        for start in range(0, len(ordered), CHUNK):
            _write(conn, table, key, is_upsert, columns, ordered[start:start + CHUNK])


def _write(conn, table, key, is_upsert, columns, chunk):
    """One statement for ``chunk``: a column's values travel as one array
    (``unnest``), so the statement's text depends only on the table and columns —
    parsed and planned once per connection, not once per batch size (issue 15)."""
    if is_upsert:
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns
                            if column != key)
        conflict = f"ON CONFLICT ({key}) DO UPDATE SET {updates}" if updates else \
            f"ON CONFLICT ({key}) DO NOTHING"
    else:
        conflict = "ON CONFLICT DO NOTHING"
    types = _column_types(conn, table)
    arrays = ", ".join(f"%s::{types[column]}[]" for column in columns)
    conn.execute(f"INSERT INTO {table} ({', '.join(columns)})"
                 f" SELECT * FROM unnest({arrays}) {conflict}",
                 [[values[column] for values in chunk] for column in columns])


_TYPES = {}  # table → {column: its SQL type}, the same in every database of ours


def _column_types(conn, table):
    if table not in _TYPES:
        _TYPES[table] = dict(conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,)).fetchall())
    return _TYPES[table]


READ_MODELS = ("bookings", "booking_refusals", "emails", "email_attempt_failures",
               "fin_queries", "complaints", "tickets", "activation_refusals", "kiosks",
               "ticket_calls", "ticket_transfers", "ticket_outcomes", "booking_reschedules",
               "booking_reminders", "closures")
TABLES = READ_MODELS + ("control_reports",)
# What a difference found by shared.ops.rebuild may print: keys and times, no personal data
# (the read models hold none; a report body lists bookings, so it is not printed).
CHECK_SHOWN = {"bookings": ("booking_id",), "booking_refusals": ("refusal_id",),
               "emails": ("intent_id",), "email_attempt_failures": ("event_id",),
               "fin_queries": ("query_id",), "complaints": ("complaint_id",),
               "tickets": ("ticket_id",), "activation_refusals": ("event_id",),
               "kiosks": ("kiosk_id",), "ticket_calls": ("event_id", "ticket_id"),
               "ticket_transfers": ("event_id", "ticket_id"),
               "ticket_outcomes": ("ticket_id", "outcome"),
               "booking_reschedules": ("event_id", "booking_id"),
               "booking_reminders": ("booking_id",), "closures": ("closure_id",),
               "control_reports": ("report_id", "day", "trigger", "generated_at")}


# --- the service's own events: control_reports (M-4) ------------------------------
def apply(conn, recorded):
    """Write the change one of this service's own events (a ``RecordedEvent``) makes:
    a ``ControlReportKept`` inserts its ``control_reports`` row (``generated_at``: the
    event's time). Raises ``domain.ReportAlreadyKept`` when the day's daily report
    has a row already (the unique index; see the module)."""
    event = CATALOG.read(recorded.type, recorded.data)
    if not isinstance(event, ControlReportKept):
        return  # ControlReportGenerated: the announcement; its row comes with the body
    kept = conn.execute(
        "INSERT INTO control_reports (report_id, day, trigger, centre, service, as_of,"
        " generated_at, report) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING report_id",
        (event.report_id, event.day, event.trigger, event.centre, event.service,
         event.as_of, recorded.envelope.time, Jsonb(event.report))).fetchone()
    if kept is None:
        raise ReportAlreadyKept(f"the {event.trigger} report of {event.day} exists")


# --- queries of the kept reports ---------------------------------------------------
def reports(conn, day=None, trigger=None, limit=200):
    """The kept reports, newest first: ``(report_id, day, trigger, centre, service,
    as_of, generated_at, failure summary)`` rows; ``day`` (a date) and ``trigger``
    filter when given."""
    return conn.execute(
        "SELECT report_id, day, trigger, centre, service, as_of, generated_at,"
        " report -> 'failures' -> 'summary' FROM control_reports"
        " WHERE (%(day)s::date IS NULL OR day = %(day)s)"
        " AND (%(trigger)s::text IS NULL OR trigger = %(trigger)s)"
        " ORDER BY generated_at DESC, report_id LIMIT %(limit)s",
        {"day": day, "trigger": trigger, "limit": limit}).fetchall()


def report_body(conn, report_id):
    """The body of the kept report ``report_id`` (a dict), or ``None``."""
    row = conn.execute("SELECT report FROM control_reports WHERE report_id = %s",
                       (report_id,)).fetchone()
    return row[0] if row else None


def daily_report_kept(conn, day):
    """Whether the daily report of ``day`` (a date) is kept (M-4)."""
    return conn.execute("SELECT 1 FROM control_reports WHERE day = %s AND trigger = 'daily'",
                        (day,)).fetchone() is not None


# --- replay ------------------------------------------------------------------------
BATCH = 5000  # stored events read at a time


def consumer_of(source):
    """The processed-event name of the live consumer of ``source`` (service.py)."""
    return f"monitoring.on_{source}_event"


def public_batches(conn, catalog, visible=False):
    """The stored events of one service that were published, in their public form
    (what RabbitMQ carried), a read of ``BATCH`` stored events at a time, in the
    store's order. ``visible``: every event ``conn``'s snapshot sees (for a
    ``REPEATABLE READ`` reader, as ``EventStore.read_visible``) instead of those below
    the horizon (as ``EventStore.read_all``)."""
    for batch in EventStore(catalog).batches(conn, BATCH, visible):
        public = []
        for recorded in batch:
            data = catalog.public_form(recorded.envelope)
            if data is not None:
                public.append(recorded.envelope.with_data(data))
        yield public


def empty_public_read_models(conn):
    """Empty ``READ_MODELS`` (not ``control_reports``): the first step of
    ``python -m services.monitoring.rebuild``, which then applies every event."""
    conn.execute(f"TRUNCATE {', '.join(READ_MODELS)}")


def rebuild(conn, config):
    """``shared.ops.rebuild``'s replay for monitoring, into the tables of ``conn``'s
    ``search_path`` (a scratch schema first) within its ``REPEATABLE READ``
    snapshot: the events of each source log in ``config["EVENT_LOGS"]`` that the live
    consumer had processed in this snapshot (see the module), then this service's
    own log."""
    for source, catalog in CATALOGS.items():
        processed = {str(event_id) for (event_id,) in conn.execute(
            "SELECT event_id FROM processed_events WHERE consumer = %s",
            (consumer_of(source),))}
        if not processed:
            continue
        with psycopg.connect(config["EVENT_LOGS"][source]) as log_conn:
            log_conn.read_only = True
            log_conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with log_conn.transaction():
                for batch in public_batches(log_conn, catalog, visible=True):
                    apply_public_many(conn, [envelope for envelope in batch
                                             if envelope.id in processed])
    for own in EventStore(CATALOG).batches(conn, BATCH, visible=True):
        for event in own:
            apply(conn, event)
