"""The complaints service's use cases, each in a unit of work."""
import secrets
import uuid

from shared.clock import baku_today
from shared.errors import NotFound, Text, ValidationFailed

from services.notification.contract import RECEIPT_WINDOW

from . import domain

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NO_COMPLAINT = Text("no_complaint", "Belə şikayət tapılmadı.", "No such complaint.")


def _reference(filed_on):
    return f"SK-{filed_on:%Y%m%d}-" + "".join(secrets.choice(REFERENCE_ALPHABET)
                                               for _ in range(6))


def load(uow, complaint_id):
    events = uow.read_stream(f"complaint-{complaint_id}")
    if not events:
        raise NotFound(NO_COMPLAINT)
    return domain.fold((e.type, e.data) for e in events)


def record(uow, state, events):
    stream = f"complaint-{state.complaint_id}"
    uow.append(stream, state.version,
               *[uow.new_event(name, stream, data) for name, data in events])
    for name, data in events:
        status = {"ComplaintAcknowledged": "acknowledged", "ComplaintAssigned": "assigned",
                  "ComplaintAnswered": "answered", "ComplaintWithdrawn": "withdrawn"}.get(name)
        uow.conn.execute(
            "UPDATE complaints SET status = coalesce(%s, status),"
            " reviewer = coalesce(%s, reviewer), warned = warned OR %s, overdue = overdue OR %s,"
            " version = version + 1 WHERE complaint_id = %s",
            (status, data.get("reviewer"), name == "ComplaintDeadlineApproaching",
             name == "ComplaintOverdue", state.complaint_id))


def _email(uow, complaint_id, template, to, language, variables, suffix, now):
    """A receipt bound to no moment: tried for as long as GOV.UK Notify would."""
    uow.send_private("EmailRequested", f"complaint-{complaint_id}", {
        "intent_id": f"{complaint_id}:{suffix}", "template": template, "language": language,
        "to": to, "reference": f"complaint-{complaint_id}", "variables": variables,
        "deliver_by": (now + RECEIPT_WINDOW).isoformat()})


def file(uow, body, channel, now):
    """C-1, C-2, C-4: filed, then acknowledged at once (by email when one was given)."""
    problems = domain.identity_problems(body)
    if problems:
        raise ValidationFailed(problems)
    filed_on = body.get("received_on") or baku_today(now)
    complaint_id = str(uuid.uuid4())
    reference = _reference(filed_on)
    due_on = domain.due_date(filed_on)
    identity = {k: (body.get(k) or None) for k in
                ("name", "patronymic", "surname", "address", "email", "postal_address",
                 "workplace")}
    uow.conn.execute(
        "INSERT INTO complaints (complaint_id, reference, status, service, channel, booking_id,"
        " email, language, name, filed_on, due_on, version) VALUES (%s, %s, 'filed', %s, %s,"
        " %s, %s, %s, %s, %s, %s, 0)",
        (complaint_id, reference, body["service"], channel, body.get("booking_id"),
         identity["email"], body.get("language", "az"), identity["name"], filed_on, due_on))
    state = domain.Complaint(complaint_id=complaint_id)
    acknowledged_by = "email" if identity["email"] else "post"
    record(uow, state, [
        ("ComplaintFiled", {"complaint_id": complaint_id, "reference": reference,
                            "service": body["service"], "channel": channel,
                            "filed_on": filed_on.isoformat(), "due_on": due_on.isoformat(),
                            "booking_id": body.get("booking_id"),
                            "scan_reference": body.get("scan_reference"),
                            "complainant": identity, "text": body["text"]}),
        ("ComplaintAcknowledged", {"complaint_id": complaint_id, "by": acknowledged_by})])
    if identity["email"]:
        # Issue 12: the validated name, the reference, the due date — nothing else typed.
        language = body.get("language", "az")
        _email(uow, complaint_id, "complaint_acknowledged", identity["email"], language,
               {"name": domain.addressed_as(identity["name"], language),
                "reference": reference, "due_on": due_on.isoformat()}, "acknowledged", now)
    return {"complaint_id": complaint_id, "reference": reference, "status": "acknowledged",
            "filed_on": filed_on.isoformat(), "due_on": due_on.isoformat()}


def _by_reference(uow, reference):
    row = uow.conn.execute("SELECT complaint_id FROM complaints WHERE reference = %s FOR UPDATE",
                           (reference.strip().upper(),)).fetchone()
    if row is None:
        raise NotFound(NO_COMPLAINT)
    return str(row[0])


def withdraw(uow, reference, now):
    complaint_id = _by_reference(uow, reference)
    state = load(uow, complaint_id)
    record(uow, state, domain.withdraw(state, now))
    return {"complaint_id": complaint_id, "status": "withdrawn"}


def assign(uow, complaint_id, reviewer, now):
    state = load(uow, complaint_id)
    record(uow, state, domain.assign(state, reviewer, now))
    return {"complaint_id": complaint_id, "status": "assigned", "reviewer": reviewer}


def answer(uow, complaint_id, decision, text, now):
    state = load(uow, complaint_id)
    email, language, name, reference = uow.conn.execute(
        "SELECT email, language, name, reference FROM complaints WHERE complaint_id = %s",
        (complaint_id,)).fetchone()
    delivery = "email" if email else "post"
    events = domain.answer(state, decision, delivery, now)
    events[0][1]["answer"] = text
    record(uow, state, events)
    if email:
        # The answer is the staff's text; of the complainant's, only the checked name.
        _email(uow, complaint_id, "complaint_answered", email, language,
               {"name": domain.addressed_as(name, language), "reference": reference,
                "decision": decision, "answer": text}, "answered", now)
    return {"complaint_id": complaint_id, "status": "answered", "delivery": delivery}


def check_deadlines(uow, today, warn_days, limit=500):
    """C-3, the scheduled job: correct with several instances (SKIP LOCKED, and the
    expected version refuses a second ComplaintOverdue)."""
    rows = uow.conn.execute(
        "SELECT complaint_id FROM complaints WHERE status IN ('filed', 'acknowledged',"
        " 'assigned') AND ((NOT warned AND due_on - %s <= %s) OR (NOT overdue AND due_on < %s))"
        " LIMIT %s FOR UPDATE SKIP LOCKED", (warn_days, today, today, limit)).fetchall()
    found = 0
    for (complaint_id,) in rows:
        state = load(uow, str(complaint_id))
        events = domain.deadline_events(state, today, warn_days)
        record(uow, state, events)
        found += len(events)
    return found


def listing(conn, criteria, today):
    clauses, params = ["true"], []
    for field in ("status", "service", "reviewer"):
        if criteria.get(field):
            clauses.append(f"{field} = %s")
            params.append(criteria[field])
    if criteria.get("overdue"):
        clauses.append("status IN ('filed', 'acknowledged', 'assigned') AND due_on < %s")
        params.append(today)
    rows = conn.execute(
        "SELECT complaint_id, reference, status, service, channel, reviewer, filed_on, due_on,"
        " overdue FROM complaints WHERE " + " AND ".join(clauses) + " ORDER BY due_on LIMIT 200",
        params).fetchall()
    keys = ("complaint_id", "reference", "status", "service", "channel", "reviewer",
            "filed_on", "due_on", "overdue")
    return [{k: (str(v) if k in ("complaint_id", "filed_on", "due_on") else v)
             for k, v in zip(keys, row)} for row in rows]


def history(store, conn, complaint_id):
    events = store.read_stream(conn, f"complaint-{complaint_id}")
    if not events:
        raise NotFound(NO_COMPLAINT)
    return [{"version": e.version, "type": e.type, "time": e.envelope.time.isoformat(),
             "data": e.data} for e in events]
