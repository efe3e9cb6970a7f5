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

``python -m shared.rebuild monitoring --check`` (:func:`rebuild`) replays into a
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
from shared.eventstore import EventStore

from .domain import ReportAlreadyKept
from .events import CATALOG

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


def _slot(data):
    return {"centre": data["centre"], "service": data["service"],
            "visit_date": data["date"], "visit_time": data["time"]}


# --- booking ---------------------------------------------------------------------
def _booking(envelope):
    data, logged = envelope.data, envelope.time
    booking = data.get("booking_id")
    kind = envelope.type
    if kind == "BookingRequested":
        yield upsert("bookings", "booking_id", booking, {
            **_slot(data), "channel": data["channel"], "requested_at": data["requested_at"],
            "requested_logged_at": logged})
    elif kind == "CodeConfirmed":
        yield upsert("bookings", "booking_id", booking, {
            **_slot(data), "confirmed_at": data["confirmed_at"], "confirmed_logged_at": logged})
    elif kind == "BookingActivated":
        yield upsert("bookings", "booking_id", booking, {
            **_slot(data), "activated_at": data["activated_at"]})
    elif kind == "BookingLapsed":
        yield upsert("bookings", "booking_id", booking, {
            **_slot(data), "lapsed_at": data["lapsed_at"]})
    elif kind == "BookingCancelled":
        yield upsert("bookings", "booking_id", booking, {
            "cancelled_at": data["cancelled_at"], "cancelled_by": data["by"]})
    elif kind == "BookingVoided":
        yield upsert("bookings", "booking_id", booking, {
            "voided_at": logged, "void_reason": data["reason"]})
    elif kind == "HoldExpired":
        yield upsert("bookings", "booking_id", booking, {"hold_expired_at": data["expired_at"]})
    elif kind == "BookingRescheduled":  # issue 17 §5: the latest move holds (report.py)
        yield insert_once("booking_reschedules", "event_id", {
            "event_id": envelope.id, "booking_id": booking, "centre": data["centre"],
            "service": data["service"], "visit_date": data["date"], "visit_time": data["time"],
            "previous_date": data["previous_date"], "previous_time": data["previous_time"],
            "rescheduled_at": data["rescheduled_at"]})
    elif kind == "BookingReminded":  # issue 17 §4: once per booking
        yield insert_once("booking_reminders", "booking_id", {
            **_slot(data), "booking_id": booking, "reminded_at": data["reminded_at"]})
    elif kind == "CentreClosed":  # issue 17 §6; its cancellations are BookingCancelled
        yield insert_once("closures", "closure_id", {
            "closure_id": data["closure_id"], "centre": data["centre"],
            "service": data.get("service"), "date": data["date"], "reason": data["reason"],
            "closed_at": data["closed_at"], "cancelled": data["cancelled"]})
    elif kind == "BookingRefused":
        yield insert_once("booking_refusals", "refusal_id", {
            "refusal_id": data["refusal_id"], "refused_at": data.get("refused_at") or logged,
            "channel": data["channel"],
            "centre": data.get("centre"), "service": data.get("service"),
            "reasons": Jsonb(data["reasons"])})
    # CodeRejected: a wrong code typed; the funnel counts what became of the booking.
    # OrderCodeResent: an email sent again; nothing of the visit changes.


# --- notification ----------------------------------------------------------------
FAILURES = {"EmailTemporaryFailure": "temporary", "EmailPermanentFailure": "permanent",
            "EmailTechnicalFailure": "technical"}


def _notification(envelope):
    data, logged = envelope.data, envelope.time
    common = {"template": data["template"], "reference": data["reference"]}
    if envelope.type == "EmailCreated":
        yield upsert("emails", "intent_id", data["intent_id"],
               {**common, "created_logged_at": logged})
    elif envelope.type == "EmailDelivered":
        yield upsert("emails", "intent_id", data["intent_id"],
               {**common, "delivered_logged_at": logged, "delivered_attempt": data["attempt"]})
    elif envelope.type in FAILURES:
        kind = FAILURES[envelope.type]
        yield insert_once("email_attempt_failures", "event_id", {
            "event_id": envelope.id, "intent_id": data["intent_id"], "failure_type": kind,
            "will_retry": data["will_retry"], "logged_at": logged})
        if not data["will_retry"]:
            yield upsert("emails", "intent_id", data["intent_id"], {
                **common, "failed_logged_at": logged, "failure_type": kind,
                "failure_smtp_code": data.get("smtp_code")})


# --- kiosk gateway ---------------------------------------------------------------
def _kiosk_gateway(envelope):
    data, logged = envelope.data, envelope.time
    if envelope.type == "TicketIssued":
        yield insert_once("tickets", "ticket_id", {
            "ticket_id": data["ticket_id"], "centre": data["centre"], "service": data["service"],
            "date": data["date"], "series": data["series"], "booking_id": data.get("booking_id"),
            "issued_at": data["issued_at"]})
    elif envelope.type == "ActivationRefused":
        yield insert_once("activation_refusals", "event_id", {
            "event_id": envelope.id, "kiosk_id": data["kiosk_id"], "centre": data["centre"],
            "reason": data["reason"], "at": data["at"]})
    elif envelope.type in TICKET_EVENTS:
        yield from _ticket_at_counter(envelope)
    elif envelope.type == "KioskRegistered":
        yield upsert("kiosks", "kiosk_id", data["kiosk_id"],
               {"centre": data["centre"], "registered_logged_at": logged})
    elif envelope.type == "KioskRevoked":
        yield upsert("kiosks", "kiosk_id", data["kiosk_id"],
               {"centre": data["centre"], "revoked_logged_at": logged})

    # Counter* (sign-in, credentials): the counters' own state, not the visit's.


TICKET_EVENTS = ("TicketCalled", "TicketTransferred", "TicketServed", "TicketNoShow")


def _ticket_at_counter(envelope):
    """Issue 17 §3: a ticket at a counter. Every row carries the ticket's ``date`` (the
    Baku day it was issued), which the report counts the visit on, even when it is
    called or served after midnight. TicketRecalled changes no figure."""
    data = envelope.data
    ticket = {"ticket_id": data["ticket_id"], "centre": data["centre"], "date": data["date"]}
    if envelope.type == "TicketCalled":
        yield insert_once("ticket_calls", "event_id", {
            "event_id": envelope.id, **ticket, "service": data["service"],
            "counter_id": data["counter_id"], "first_call": data["first_call"],
            "issued_at": data["issued_at"], "called_at": data["called_at"]})
    elif envelope.type == "TicketTransferred":
        yield insert_once("ticket_transfers", "event_id", {
            "event_id": envelope.id, **ticket, "from_service": data["from_service"],
            "to_service": data["to_service"], "counter_id": data["counter_id"],
            "at": data["at"]})
    else:  # TicketServed, TicketNoShow: the same columns, so a batch keeps the first end
        served = envelope.type == "TicketServed"
        yield insert_once("ticket_outcomes", "ticket_id", {
            **ticket, "outcome": "served" if served else "no_show",
            "service": data["service"], "counter_id": data["counter_id"],
            "called_at": data["called_at"] if served else None,
            "at": data["served_at"] if served else data["at"],
            "recalls": None if served else data["recalls"]})


# --- registry --------------------------------------------------------------------
def _registry(envelope):
    data = envelope.data
    if envelope.type == "FinQueried":
        yield insert_once("fin_queries", "query_id", {
            "query_id": data["query_id"], "asked_at": data["asked_at"], "method": data["method"],
            "outcome": data["outcome"], "latency_ms": data["latency_ms"],
            "channel": data["channel"]})


# --- complaints ------------------------------------------------------------------
def _complaints(envelope):
    data, logged = envelope.data, envelope.time
    complaint = data["complaint_id"]
    kind = envelope.type
    if kind == "ComplaintFiled":
        yield upsert("complaints", "complaint_id", complaint, {
            "service": data["service"], "channel": data["channel"],
            "filed_on": data["filed_on"], "filed_logged_at": logged, "due_on": data["due_on"]})
    elif kind == "ComplaintAcknowledged":
        yield upsert("complaints", "complaint_id", complaint, {"acknowledged_by": data["by"]})
    elif kind == "ComplaintAnswered":
        yield upsert("complaints", "complaint_id", complaint, {
            "answered_at": data["answered_at"], "decision": data["decision"],
            "answered_late": data["late"]})
    elif kind == "ComplaintWithdrawn":
        yield upsert("complaints", "complaint_id", complaint,
               {"withdrawn_at": data["withdrawn_at"]})
    elif kind == "ComplaintDeadlineApproaching":
        yield upsert("complaints", "complaint_id", complaint,
               {"due_on": data["due_on"], "warned_logged_at": logged})
    elif kind == "ComplaintOverdue":
        yield upsert("complaints", "complaint_id", complaint,
               {"due_on": data["due_on"], "overdue_logged_at": logged})


APPLY = {"booking": _booking, "notification": _notification,
         "kiosk_gateway": _kiosk_gateway, "registry": _registry, "complaints": _complaints}


def source_of(envelope):
    """``/asan/booking`` → ``booking``."""
    return envelope.source.rsplit("/", 1)[-1]


def rows(envelope):
    """The row changes of one public event of another service."""
    return list(APPLY[source_of(envelope)](envelope))


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
# What a difference found by shared.rebuild may print: keys and times, no personal data
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
def apply(conn, event):
    """Write the change one of this service's own events (a ``RecordedEvent``) makes:
    a ``ControlReportKept`` inserts its ``control_reports`` row (``generated_at``: the
    event's time). Raises ``domain.ReportAlreadyKept`` when the day's daily report
    has a row already (the unique index; see the module)."""
    if event.type != "ControlReportKept":
        return  # ControlReportGenerated: the announcement; its row comes with the body
    data = event.data
    kept = conn.execute(
        "INSERT INTO control_reports (report_id, day, trigger, centre, service, as_of,"
        " generated_at, report) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING report_id",
        (data["report_id"], data["day"], data["trigger"], data["centre"], data["service"],
         data["as_of"], event.envelope.time, Jsonb(data["report"]))).fetchone()
    if kept is None:
        raise ReportAlreadyKept(f"the {data['trigger']} report of {data['day']} exists")


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
    """``shared.rebuild``'s replay for monitoring, into the tables of ``conn``'s
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
