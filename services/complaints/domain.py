"""Complaints about either service (000 §3.5, 001 §3.6), pure: the identity a
complaint must carry (C-2), its lifecycle, and the one-month review deadline (C-3)."""
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from shared.clock import baku_today
from shared.errors import Conflict, Reason, Text
from shared.names import is_name, normalize_name

SERVICES = ("queue_booking", "fin_lookup")
OPEN = ("filed", "acknowledged", "assigned")


def due_date(filed_on):
    """C-3 (Law on Administrative Proceedings, art. 78): one calendar month after the
    day of filing, in Baku; 31 January → the last day of February (29th in a leap year)."""
    return filed_on + relativedelta(months=1)


def identity_problems(data):
    """C-2: name, patronymic, surname, address, and an email or postal address or a
    workplace — every missing one named."""
    reasons = []
    labels = {"name": ("Ad", "Name"), "patronymic": ("Ata adı", "Patronymic"),
              "surname": ("Soyad", "Surname"), "address": ("Ünvan", "Address")}
    for field, (az, en) in labels.items():
        if not str(data.get(field) or "").strip():
            reasons.append(Reason(field, "required", f"{az} göstərilməlidir.",
                                  f"{en} is required."))
    if not any(str(data.get(f) or "").strip() for f in ("email", "postal_address", "workplace")):
        reasons.append(Reason("contact", "contact_required",
                              "E-poçt və ya poçt ünvanı, yaxud iş yeri göstərilməlidir.",
                              "An email or postal address, or a workplace, is required."))
    return reasons


def addressed_as(name, language):
    """How an email greets the complainant (issue 12: an email from the agency repeats
    nothing typed but a validated name). A complaint filed before names were checked
    may hold anything in ``name``: it is greeted as "citizen" instead."""
    if is_name(name):
        return normalize_name(name)
    return "vətəndaş" if language == "az" else "citizen"


@dataclass(frozen=True)
class Complaint:
    complaint_id: str | None = None
    status: str = "new"
    due_on: date | None = None
    reviewer: str | None = None
    warned: bool = False
    overdue: bool = False
    version: int = 0


def evolve(state, name, data):
    state = replace(state, version=state.version + 1)
    if name == "ComplaintFiled":
        return replace(state, complaint_id=data["complaint_id"], status="filed",
                       due_on=date.fromisoformat(data["due_on"]))
    if name == "ComplaintAcknowledged":
        return replace(state, status="acknowledged")
    if name == "ComplaintAssigned":
        return replace(state, status="assigned", reviewer=data["reviewer"])
    if name == "ComplaintAnswered":
        return replace(state, status="answered")
    if name == "ComplaintWithdrawn":
        return replace(state, status="withdrawn")
    if name == "ComplaintDeadlineApproaching":
        return replace(state, warned=True)
    if name == "ComplaintOverdue":
        return replace(state, overdue=True)
    return state


def fold(events):
    state = Complaint()
    for name, data in events:
        state = evolve(state, name, data)
    return state


def _must_be_open(state):
    if state.status not in OPEN:
        raise Conflict(Text("closed", "Şikayətə artıq baxılıb və ya geri götürülüb.",
                            "The complaint has already been answered or withdrawn."))


def assign(state, reviewer, now):
    _must_be_open(state)
    return [("ComplaintAssigned", {"complaint_id": state.complaint_id, "reviewer": reviewer,
                                   "assigned_at": now.isoformat()})]


def answer(state, decision, delivery, now):
    _must_be_open(state)
    return [("ComplaintAnswered", {"complaint_id": state.complaint_id, "decision": decision,
                                   "delivery": delivery, "answered_at": now.isoformat(),
                                   "late": baku_today(now) > state.due_on})]


def withdraw(state, now):
    _must_be_open(state)
    return [("ComplaintWithdrawn", {"complaint_id": state.complaint_id,
                                    "withdrawn_at": now.isoformat()})]


def deadline_events(state, today, warn_days):
    """C-3: a warning once when the deadline is near, a breach once when it passed."""
    if state.status not in OPEN:
        return []
    events = []
    if not state.warned and today >= state.due_on - timedelta(days=warn_days):
        events.append(("ComplaintDeadlineApproaching", {"complaint_id": state.complaint_id,
                                                        "due_on": state.due_on.isoformat()}))
    if not state.overdue and today > state.due_on:
        events.append(("ComplaintOverdue", {"complaint_id": state.complaint_id,
                                            "due_on": state.due_on.isoformat()}))
    return events


