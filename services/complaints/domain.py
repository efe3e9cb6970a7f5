"""Complaints about either service (000 §3.5, 001 §3.6), pure: the identity a
complaint must carry (C-2), its lifecycle, and the one-month review deadline (C-3).

The decider (D-1, issue 16): a complaint's state is the fold of its stream's events
(:func:`evolve`, :func:`fold`), and each command is a ``decide_*`` function of the
state and the command's values, returning the new typed events (``events.py``) or
raising a refusal (``shared.vocabulary.errors``: mapped to HTTP at the edge). No database, no
clock (``now`` is given): ``handlers.py`` loads, decides and appends."""
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from shared.vocabulary.clock import baku_today
from shared.vocabulary.decider import folder
from shared.vocabulary.errors import Conflict, Reason, Text, ValidationFailed
from shared.vocabulary.names import is_name, normalize_name

from .events import (CATALOG, ComplaintAcknowledged, ComplaintAnswered, ComplaintAssigned,
                     ComplaintDeadlineApproaching, ComplaintFiled, ComplaintOverdue,
                     ComplaintWithdrawn)
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


REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # nothing read as another (0/O, 1/I/L)
CLOSED = Text("closed", "Şikayətə artıq baxılıb və ya geri götürülüb.",
              "The complaint has already been answered or withdrawn.")


def new_reference_code():
    """Six characters of the reference a complainant quotes (``SK-<filing day>-<code>``):
    random, so references cannot be enumerated."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class Complaint:
    """A complaint as its events left it; ``version``: how many there are (the
    expected version of the next append). ``status``: new (no events yet) | filed |
    acknowledged | assigned | answered | withdrawn."""
    complaint_id: str | None = None
    status: str = "new"
    due_on: date | None = None
    reviewer: str | None = None
    warned: bool = False
    overdue: bool = False
    version: int = 0

    @property
    def stream_id(self):
        """``complaint-<complaint_id>``: the complaint's event stream."""
        return f"complaint-{self.complaint_id}"


STATUS = {ComplaintFiled: "filed", ComplaintAcknowledged: "acknowledged",
          ComplaintAssigned: "assigned", ComplaintAnswered: "answered",
          ComplaintWithdrawn: "withdrawn"}


def evolve(state, event):
    """The state after one typed event (its data as stored)."""
    state = replace(state, version=state.version + 1)
    match event:
        case ComplaintFiled():
            return replace(state, complaint_id=event.complaint_id, status="filed",
                           due_on=date.fromisoformat(event.due_on))
        case ComplaintAssigned():
            return replace(state, status="assigned", reviewer=event.reviewer)
        case ComplaintDeadlineApproaching():
            return replace(state, warned=True)
        case ComplaintOverdue():
            return replace(state, overdue=True)
    status = STATUS.get(type(event))
    return replace(state, status=status) if status else state


# The state a stream's events leave, from ``Complaint()``.
fold = folder(Complaint(), evolve, CATALOG)


def _must_be_open(state):
    if state.status not in OPEN:
        raise Conflict(CLOSED)


def decide_file(state, complaint_id, reference_code, body, channel, now):
    """C-1, C-2, C-4: a new complaint (``state`` has no events) is filed, and
    acknowledged at once — by email when one was given, else by post. ``body``: the
    loaded request (``received_on``: the day a paper letter arrived, C-4; else the
    Baku day of ``now``). Raises ``ValidationFailed`` when C-2's identity is missing.
    ``state`` is the new stream's (its id is new): appending at its version 0 is what
    refuses a second filing on one stream."""
    problems = identity_problems(body)
    if problems:
        raise ValidationFailed(problems)
    filed_on = body.get("received_on") or baku_today(now)
    due_on = due_date(filed_on)
    complainant = {k: (body.get(k) or None) for k in
                   ("name", "patronymic", "surname", "address", "email", "postal_address",
                    "workplace")}
    return [
        ComplaintFiled(complaint_id=complaint_id,
                       reference=f"SK-{filed_on:%Y%m%d}-{reference_code}",
                       service=body["service"], channel=channel,
                       filed_on=filed_on.isoformat(), due_on=due_on.isoformat(),
                       booking_id=body.get("booking_id"),
                       scan_reference=body.get("scan_reference"),
                       complainant=complainant, text=body["text"],
                       language=body.get("language") or "az"),
        ComplaintAcknowledged(complaint_id=complaint_id,
                              by="email" if complainant["email"] else "post")]


def decide_assign(state, reviewer, now):
    """A reviewer takes an open complaint (C-3: it is reviewed); ``Conflict(closed)``
    once answered or withdrawn."""
    _must_be_open(state)
    return [ComplaintAssigned(complaint_id=state.complaint_id, reviewer=reviewer,
                              assigned_at=now.isoformat())]


def decide_answer(state, decision, answer, delivery, now):
    """C-3: the answer (``decision``: resolved | rejected; ``answer``: the staff's
    text; ``delivery``: email | post), ``late`` when the Baku day of ``now`` is past
    the deadline. ``Conflict(closed)`` when answered or withdrawn already."""
    _must_be_open(state)
    return [ComplaintAnswered(complaint_id=state.complaint_id, decision=decision,
                              delivery=delivery, answered_at=now.isoformat(),
                              late=baku_today(now) > state.due_on, answer=answer)]


def decide_withdraw(state, now):
    """The complainant withdraws an open complaint; ``Conflict(closed)`` otherwise."""
    _must_be_open(state)
    return [ComplaintWithdrawn(complaint_id=state.complaint_id,
                               withdrawn_at=now.isoformat())]


def decide_deadlines(state, today, warn_days):
    """C-3, the scheduled check on Baku day ``today``: a warning once when the
    deadline is ``warn_days`` or fewer days away, a breach once when it passed; nothing
    for a closed complaint."""
    if state.status not in OPEN:
        return []
    events = []
    if not state.warned and today >= state.due_on - timedelta(days=warn_days):
        events.append(ComplaintDeadlineApproaching(complaint_id=state.complaint_id,
                                                   due_on=state.due_on.isoformat()))
    if not state.overdue and today > state.due_on:
        events.append(ComplaintOverdue(complaint_id=state.complaint_id,
                                       due_on=state.due_on.isoformat()))
    return events
