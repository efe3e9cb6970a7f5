"""The read models: what each public event of the other services changes.

``apply(conn, envelope)`` is the one place that knows; the live consumers and the
rebuild (``services.monitoring.rebuild``) both call it, so they cannot disagree.

Every statement is an upsert that sets the columns one event type owns, and a row
may be started by any of its events (a booking's ``CodeConfirmed`` may be read
before its ``BookingRequested`` after a retry). So applying an event twice, or the
events of several services in any order, leaves the same rows.
"""
from psycopg.types.json import Jsonb

from services.booking import events as booking_events
from services.complaints import events as complaints_events
from services.kiosk_gateway import events as kiosk_events
from services.notification import events as notification_events
from services.registry import events as registry_events

# The services monitoring reads, and the catalogue whose public schemas it reads them by.
CATALOGS = {"booking": booking_events.CATALOG, "notification": notification_events.CATALOG,
            "kiosk_gateway": kiosk_events.CATALOG, "registry": registry_events.CATALOG,
            "complaints": complaints_events.CATALOG}


def upsert(conn, table, key, key_value, values):
    """Insert the row, or set ``values`` on the existing one."""
    columns = [key, *values]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in values)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}",
        [key_value, *values.values()])


def insert_once(conn, table, values):
    columns = list(values)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING",
        list(values.values()))


def _slot(data):
    return {"centre": data["centre"], "service": data["service"],
            "visit_date": data["date"], "visit_time": data["time"]}


# --- booking ---------------------------------------------------------------------
def _booking(conn, envelope):
    data, logged = envelope.data, envelope.time
    booking = data.get("booking_id")
    kind = envelope.type
    if kind == "BookingRequested":
        upsert(conn, "bookings", "booking_id", booking, {
            **_slot(data), "channel": data["channel"], "requested_at": data["requested_at"],
            "requested_logged_at": logged})
    elif kind == "CodeConfirmed":
        upsert(conn, "bookings", "booking_id", booking, {
            **_slot(data), "confirmed_at": data["confirmed_at"], "confirmed_logged_at": logged})
    elif kind == "BookingActivated":
        upsert(conn, "bookings", "booking_id", booking, {
            **_slot(data), "activated_at": data["activated_at"]})
    elif kind == "BookingLapsed":
        upsert(conn, "bookings", "booking_id", booking, {
            **_slot(data), "lapsed_at": data["lapsed_at"]})
    elif kind == "BookingCancelled":
        upsert(conn, "bookings", "booking_id", booking, {
            "cancelled_at": data["cancelled_at"], "cancelled_by": data["by"]})
    elif kind == "BookingVoided":
        upsert(conn, "bookings", "booking_id", booking, {
            "voided_at": logged, "void_reason": data["reason"]})
    elif kind == "HoldExpired":
        upsert(conn, "bookings", "booking_id", booking, {"hold_expired_at": data["expired_at"]})
    elif kind == "BookingRefused":
        insert_once(conn, "booking_refusals", {
            "refusal_id": data["refusal_id"], "refused_at": data.get("refused_at") or logged,
            "channel": data["channel"],
            "centre": data.get("centre"), "service": data.get("service"),
            "reasons": Jsonb(data["reasons"])})
    # CodeRejected: a wrong code typed; the funnel counts what became of the booking.


# --- notification ----------------------------------------------------------------
FAILURES = {"EmailTemporaryFailure": "temporary", "EmailPermanentFailure": "permanent",
            "EmailTechnicalFailure": "technical"}


def _notification(conn, envelope):
    data, logged = envelope.data, envelope.time
    common = {"template": data["template"], "reference": data["reference"]}
    if envelope.type == "EmailCreated":
        upsert(conn, "emails", "intent_id", data["intent_id"],
               {**common, "created_logged_at": logged})
    elif envelope.type == "EmailDelivered":
        upsert(conn, "emails", "intent_id", data["intent_id"],
               {**common, "delivered_logged_at": logged, "delivered_attempt": data["attempt"]})
    elif envelope.type in FAILURES:
        kind = FAILURES[envelope.type]
        insert_once(conn, "email_attempt_failures", {
            "event_id": envelope.id, "intent_id": data["intent_id"], "failure_type": kind,
            "will_retry": data["will_retry"], "logged_at": logged})
        if not data["will_retry"]:
            upsert(conn, "emails", "intent_id", data["intent_id"], {
                **common, "failed_logged_at": logged, "failure_type": kind,
                "failure_smtp_code": data.get("smtp_code")})


# --- kiosk gateway ---------------------------------------------------------------
def _kiosk_gateway(conn, envelope):
    data, logged = envelope.data, envelope.time
    if envelope.type == "TicketIssued":
        insert_once(conn, "tickets", {
            "ticket_id": data["ticket_id"], "centre": data["centre"], "service": data["service"],
            "date": data["date"], "series": data["series"], "booking_id": data.get("booking_id"),
            "issued_at": data["issued_at"]})
    elif envelope.type == "ActivationRefused":
        insert_once(conn, "activation_refusals", {
            "event_id": envelope.id, "kiosk_id": data["kiosk_id"], "centre": data["centre"],
            "reason": data["reason"], "at": data["at"]})
    elif envelope.type == "KioskRegistered":
        upsert(conn, "kiosks", "kiosk_id", data["kiosk_id"],
               {"centre": data["centre"], "registered_logged_at": logged})
    elif envelope.type == "KioskRevoked":
        upsert(conn, "kiosks", "kiosk_id", data["kiosk_id"],
               {"centre": data["centre"], "revoked_logged_at": logged})


# --- registry --------------------------------------------------------------------
def _registry(conn, envelope):
    data = envelope.data
    if envelope.type == "FinQueried":
        insert_once(conn, "fin_queries", {
            "query_id": data["query_id"], "asked_at": data["asked_at"], "method": data["method"],
            "outcome": data["outcome"], "latency_ms": data["latency_ms"],
            "channel": data["channel"]})


# --- complaints ------------------------------------------------------------------
def _complaints(conn, envelope):
    data, logged = envelope.data, envelope.time
    complaint = data["complaint_id"]
    kind = envelope.type
    if kind == "ComplaintFiled":
        upsert(conn, "complaints", "complaint_id", complaint, {
            "service": data["service"], "channel": data["channel"],
            "filed_on": data["filed_on"], "filed_logged_at": logged, "due_on": data["due_on"]})
    elif kind == "ComplaintAcknowledged":
        upsert(conn, "complaints", "complaint_id", complaint, {"acknowledged_by": data["by"]})
    elif kind == "ComplaintAnswered":
        upsert(conn, "complaints", "complaint_id", complaint, {
            "answered_at": data["answered_at"], "decision": data["decision"],
            "answered_late": data["late"]})
    elif kind == "ComplaintWithdrawn":
        upsert(conn, "complaints", "complaint_id", complaint,
               {"withdrawn_at": data["withdrawn_at"]})
    elif kind == "ComplaintDeadlineApproaching":
        upsert(conn, "complaints", "complaint_id", complaint,
               {"due_on": data["due_on"], "warned_logged_at": logged})
    elif kind == "ComplaintOverdue":
        upsert(conn, "complaints", "complaint_id", complaint,
               {"due_on": data["due_on"], "overdue_logged_at": logged})


APPLY = {"booking": _booking, "notification": _notification,
         "kiosk_gateway": _kiosk_gateway, "registry": _registry, "complaints": _complaints}


def source_of(envelope):
    """``/asan/booking`` → ``booking``."""
    return envelope.source.rsplit("/", 1)[-1]


def apply(conn, envelope):
    """Apply one public event of another service to the read models."""
    APPLY[source_of(envelope)](conn, envelope)


READ_MODELS = ("bookings", "booking_refusals", "emails", "email_attempt_failures",
               "fin_queries", "complaints", "tickets", "activation_refusals", "kiosks")
