"""The complaints service's use cases, each in a unit of work: load the complaint
(its stream, folded), decide (``domain.decide_*``), append the events with the
version they were decided on. The ``complaints`` table is written by
``read_model.apply`` when the unit of work flushes (D-1, issue 16), never here."""
import uuid

from shared.vocabulary.errors import NotFound, Text

from shared.vocabulary.email_request import RECEIPT_WINDOW

from . import domain, read_model
from .events import EmailRequested

NO_COMPLAINT = Text("no_complaint", "Belə şikayət tapılmadı.", "No such complaint.")


def load(uow, complaint_id):
    """The complaint's state, its stream locked until commit; ``NotFound`` if none."""
    state = uow.load(f"complaint-{complaint_id}", domain.fold)
    if not state.version:
        raise NotFound(NO_COMPLAINT)
    return state


def record(uow, state, events):
    """Append the decided ``events`` to the complaint's stream, expecting the version
    ``state`` was folded to (a concurrent append is refused, not interleaved)."""
    uow.record(state.stream_id, state.version, events)


def _email(uow, complaint_id, template, to, language, variables, suffix, now):
    """A receipt bound to no moment: tried for as long as GOV.UK Notify would."""
    email = EmailRequested(
        intent_id=f"{complaint_id}:{suffix}", template=template, language=language,
        to=to, reference=f"complaint-{complaint_id}", variables=variables,
        deliver_by=(now + RECEIPT_WINDOW).isoformat())
    uow.send_private(email.event_type, f"complaint-{complaint_id}", email.data)


def file(uow, body, channel, now):
    """C-1, C-2, C-4: filed, then acknowledged at once (by email when one was given)."""
    complaint_id = str(uuid.uuid4())
    state = domain.Complaint(complaint_id=complaint_id)  # a new stream: nothing to read
    events = domain.decide_file(state, complaint_id, domain.new_reference_code(), body,
                                channel, now)
    record(uow, state, events)
    filed = events[0]
    email, language = filed.complainant["email"], filed.language
    if email:
        # Issue 12: the validated name, the reference, the due date — nothing else typed.
        _email(uow, complaint_id, "complaint_acknowledged", email, language,
               {"name": domain.addressed_as(filed.complainant["name"], language),
                "reference": filed.reference, "due_on": filed.due_on},
               "acknowledged", now)
    return {"complaint_id": complaint_id, "reference": filed.reference,
            "status": "acknowledged", "filed_on": filed.filed_on, "due_on": filed.due_on}


def withdraw(uow, reference, now):
    """The complainant withdraws the complaint ``reference``; ``NotFound`` for an unknown
    one."""
    complaint_id = read_model.id_by_reference(uow.conn, reference)
    if complaint_id is None:
        raise NotFound(NO_COMPLAINT)
    state = load(uow, complaint_id)
    record(uow, state, domain.decide_withdraw(state, now))
    return {"complaint_id": complaint_id, "status": "withdrawn"}


def assign(uow, complaint_id, reviewer, now):
    """Staff assign the complaint to ``reviewer`` (``ComplaintAssigned``)."""
    state = load(uow, complaint_id)
    record(uow, state, domain.decide_assign(state, reviewer, now))
    return {"complaint_id": complaint_id, "status": "assigned", "reviewer": reviewer}


def answer(uow, complaint_id, decision, text, now):
    """C-3: staff answer the complaint (``ComplaintAnswered``, late or not), and the answer
    is emailed when the complaint gave an email address, else posted."""
    state = load(uow, complaint_id)
    email, language, name, reference = read_model.addressee(uow.conn, complaint_id)
    delivery = "email" if email else "post"
    record(uow, state, domain.decide_answer(state, decision, text, delivery, now))
    if email:
        # The answer is the staff's text; of the complainant's, only the checked name.
        _email(uow, complaint_id, "complaint_answered", email, language,
               {"name": domain.addressed_as(name, language), "reference": reference,
                "decision": decision, "answer": text}, "answered", now)
    return {"complaint_id": complaint_id, "status": "answered", "delivery": delivery}


def check_deadlines(uow, today, warn_days, limit=500):
    """C-3, the scheduled job: correct with several instances (SKIP LOCKED, and the
    expected version refuses a second ComplaintOverdue)."""
    found = 0
    for complaint_id in read_model.due_for_check(uow.conn, today, warn_days, limit):
        state = load(uow, complaint_id)
        events = domain.decide_deadlines(state, today, warn_days)
        record(uow, state, events)
        found += len(events)
    return found


def history(store, conn, complaint_id):
    """A complaint's events, oldest first, as the staff's detail page shows them."""
    events = store.read_stream(conn, f"complaint-{complaint_id}")
    if not events:
        raise NotFound(NO_COMPLAINT)
    return [{"version": e.version, "type": e.type, "time": e.envelope.time.isoformat(),
             "data": e.data} for e in events]
