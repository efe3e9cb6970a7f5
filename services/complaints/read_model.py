"""The complaints service's read model — ``complaints``, the staff's view (their list
and filters, the withdrawal by reference, the deadline check's work list and the
gauges) — written only here, as the projection of the complaint events (D-1, issue
16). The write path (``shared.runtime.eventstore.UnitOfWork.flush``) calls :func:`apply` in
the transaction that appends each event; ``python -m shared.ops.rebuild complaints
--check`` calls it on the whole event log and compares.

Every column comes from the events: ``version`` is the event's, ``status`` the one
the event leaves (C-3's ``warned``/``overdue`` are the deadline events), ``language``
the ``ComplaintFiled``'s own (complaints filed before it carried one were written in
the language of their request; their rows say "az" once rebuilt). The complainant's
text and full identity stay in the events: the table keeps only what staff filter on
and what the emails need (the email address and the name they greet).
"""
from .events import (CATALOG, ComplaintAcknowledged, ComplaintAnswered, ComplaintAssigned,
                     ComplaintDeadlineApproaching, ComplaintFiled, ComplaintOverdue,
                     ComplaintWithdrawn)

TABLES = ("complaints",)
# What a difference found by shared.ops.rebuild may print: no personal data.
CHECK_SHOWN = {"complaints": ("complaint_id", "status", "version")}

# domain.OPEN, written as the partial index complaints_open_due_idx's predicate (so
# the planner uses it).
_OPEN = "status IN ('filed', 'acknowledged', 'assigned')"

# The status each event leaves a complaint in (None: unchanged).
STATUS = {ComplaintAcknowledged: "acknowledged", ComplaintAssigned: "assigned",
          ComplaintAnswered: "answered", ComplaintWithdrawn: "withdrawn"}


def apply(conn, recorded):
    """Write the change ``recorded`` (a ``RecordedEvent`` of a complaint stream) makes.
    Deterministic: every value comes from the event."""
    event = CATALOG.read(recorded.type, recorded.data)
    if isinstance(event, ComplaintFiled):
        complainant = event.complainant
        conn.execute(
            "INSERT INTO complaints (complaint_id, reference, status, service, channel,"
            " booking_id, email, language, name, filed_on, due_on, version) VALUES (%s, %s,"
            " 'filed', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (event.complaint_id, event.reference, event.service, event.channel,
             event.booking_id, complainant.get("email"), event.language or "az",
             complainant["name"], event.filed_on, event.due_on, recorded.version))
        return
    conn.execute(
        "UPDATE complaints SET status = coalesce(%s, status),"
        " reviewer = coalesce(%s, reviewer), warned = warned OR %s, overdue = overdue OR %s,"
        " version = %s WHERE complaint_id = %s",
        (STATUS.get(type(event)),
         event.reviewer if isinstance(event, ComplaintAssigned) else None,
         isinstance(event, ComplaintDeadlineApproaching), isinstance(event, ComplaintOverdue),
         recorded.version, event.complaint_id))


def id_by_reference(conn, reference):
    """The complaint id (str) a reference (as typed: spaces and case do not matter)
    names, its row locked for the rest of the transaction; ``None`` if there is none."""
    row = conn.execute("SELECT complaint_id FROM complaints WHERE reference = %s FOR UPDATE",
                       (reference.strip().upper(),)).fetchone()
    return None if row is None else str(row[0])


def addressee(conn, complaint_id):
    """``(email, language, name, reference)`` of a complaint: whom its answer goes to,
    as the table has it (issue 12: a name stored before names were checked is greeted
    as "citizen", see ``domain.addressed_as``)."""
    return conn.execute(
        "SELECT email, language, name, reference FROM complaints WHERE complaint_id = %s",
        (complaint_id,)).fetchone()


def due_for_check(conn, today, warn_days, limit):
    """C-3: ids (str) of at most ``limit`` open complaints whose warning or breach is due
    on Baku day ``today`` and not yet recorded; rows another instance has locked are
    skipped (SKIP LOCKED: two instances share the work, never act twice)."""
    rows = conn.execute(
        f"SELECT complaint_id FROM complaints WHERE {_OPEN} AND ((NOT warned AND"
        " due_on - %s <= %s) OR (NOT overdue AND due_on < %s)) LIMIT %s FOR UPDATE SKIP LOCKED",
        (warn_days, today, today, limit)).fetchall()
    return [str(complaint_id) for (complaint_id,) in rows]


def deadline_counts(conn, today, warn_days):
    """C-3's gauges: ``(overdue, due_soon)`` — open complaints past their deadline on
    ``today``, and those due within ``warn_days`` days."""
    return conn.execute(
        "SELECT count(*) FILTER (WHERE due_on < %s), count(*) FILTER (WHERE due_on >= %s"
        f" AND due_on - %s <= %s) FROM complaints WHERE {_OPEN}",
        (today, today, warn_days, today)).fetchone()


LISTED = ("complaint_id", "reference", "status", "service", "channel", "reviewer",
          "filed_on", "due_on", "overdue")


def listing(conn, criteria, today):
    """The staff's list (at most 200, soonest deadline first) filtered by ``criteria``
    (``status``, ``service``, ``reviewer``; ``overdue``: open and past its deadline
    on ``today``), as JSON-ready dicts of :data:`LISTED`."""
    clauses, params = ["true"], []
    for field in ("status", "service", "reviewer"):
        if criteria.get(field):
            clauses.append(f"{field} = %s")
            params.append(criteria[field])
    if criteria.get("overdue"):
        clauses.append(f"{_OPEN} AND due_on < %s")
        params.append(today)
    rows = conn.execute(
        f"SELECT {', '.join(LISTED)} FROM complaints WHERE " + " AND ".join(clauses)
        + " ORDER BY due_on LIMIT 200", params).fetchall()
    return [{k: (str(v) if k in ("complaint_id", "filed_on", "due_on") else v)
             for k, v in zip(LISTED, row)} for row in rows]
