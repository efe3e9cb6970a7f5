"""The service layer of booking: one function per use case, each inside a unit of
work given by the caller, each the same three steps — read what the rule needs (the
booking's stream, locked; the read models through :func:`queries`), let the domain
decide (events, or a refusal kind of ``domain``), record (``uow.decide``, which keeps
the events a refusal carries) and send the emails (``emails``). No SQL here: every
read is a named function of ``read_model``."""
import uuid
from dataclasses import dataclass

from shared.vocabulary.clock import BAKU
from shared.vocabulary.email_address import EmailRefused, normalize_email
from shared.vocabulary.errors import NotFound, Reason, Text, ValidationFailed
from shared.runtime.eventstore import NO_STREAM
from shared.vocabulary.identity import canonical_order_code

from . import domain, emails, read_model
from .events import BookingCancelled


@dataclass(frozen=True)
class Settings:
    """The booking service's settings: the secret key of the code hashes and the
    :class:`domain.Policy`."""
    code_key: str
    policy: domain.Policy


def queries(uow):
    """The read-model queries of ``uow``'s transaction: the unit of work's own
    ``queries`` when it brings them (a test's fake), else :class:`read_model.Queries`
    on its connection."""
    own = getattr(uow, "queries", None)
    return own if own is not None else read_model.Queries(uow.conn, uow.store)


def load(uow, booking_id):
    """The booking ``booking_id``'s state, its stream locked for the unit of work."""
    return uow.load(f"booking-{booking_id}", domain.fold)


def decide(uow, state, decision):
    """Record what ``decision()`` decides on the booking ``state`` (at its version):
    its events, or the events of the refusal it raises before raising it on (the
    unit of work applies them to the read models). Returns the events."""
    return uow.decide(state.stream_id, state.version, decision)


def send_email(uow, state, email):
    """Send ``email`` (an ``EmailRequested`` of :mod:`.emails`) about the booking
    ``state`` to the notification service, if the unit of work commits."""
    uow.send_private(email.event_type, state.stream_id, email.data)


def _load_by_order_code(uow, settings, order_code, statuses=("confirmed",)):
    """The booking of ``order_code`` among ``statuses`` (its row and stream locked)
    with its read-model row, or a new :class:`domain.Booking` and ``None`` (which the
    deciders refuse as they refuse any booking not in that state: no hint which codes
    exist)."""
    found = queries(uow).find_by_order_code(settings.code_key, order_code, lock=True,
                                            statuses=statuses)
    if found is None:
        return domain.Booking(), None
    return load(uow, found.booking_id), found


def _expire_stale_holds_of_slot(uow, visit, now):
    """Holds of the visit's slot that lapsed but were not swept yet give their places
    back first (appended before the booking that takes one)."""
    for booking_id in queries(uow).lapsed_holds(now, limit=None, visit=visit):
        state = load(uow, booking_id)
        decide(uow, state, lambda: domain.expire_hold(state, now))


def request_booking(uow, reference, settings, applicant, visit, language, channel, now,
                    client_address=None):
    """Q-1, Q-2: hold the slot, record BookingRequested, email the code; refused by the
    counted rules (``domain.check_counted``: one per ID card, service and day; issue
    12's caps on holds per client address, email and phone, and on a day per
    address; a closed day) or a full slot (the projection: 409 ``slot_full``). The
    caller has checked ``visit`` against the visit rules (``domain.visit_problems``;
    the entrypoint reports them with the form's other reasons, Q-5): they run once a
    request. Returns ``{booking_id, status, hold_expires_at}``."""
    read = queries(uow)
    policy = settings.policy
    counts = read.counts(policy, applicant.id_card, visit, client_address, now,
                         holders={"address": client_address, "email": applicant.email,
                                  "phone": applicant.phone})
    closed = read.closed_day(visit.centre, visit.day)
    booking_id = str(uuid.uuid4())
    code = domain.new_confirmation_code()
    code_hash = domain.code_hash(settings.code_key, "confirm", booking_id, code)
    events = domain.request(booking_id, applicant, visit, counts, closed, language, channel,
                            code_hash, now, policy, client_address)
    _expire_stale_holds_of_slot(uow, visit, now)
    uow.record(f"booking-{booking_id}", NO_STREAM, events)
    state = domain.fold(events)
    send_email(uow, state, emails.confirmation_code(reference, state, applicant, code,
                                                    policy.hold_minutes))
    return {"booking_id": booking_id, "status": "requested",
            "hold_expires_at": events[0].hold_expires_at}


def confirm_booking(uow, reference, settings, booking_id, code, now):
    """Q-3, Q-4, Q-6. Returns the answer; a wrong code raises ``CodeRefused``, whose
    events (the try counted, the request void) are recorded all the same."""
    state = load(uow, booking_id)
    right = state.code_hash is not None and domain.hmac.compare_digest(
        state.code_hash, domain.code_hash(settings.code_key, "confirm", booking_id, code))
    order_code = order_code_hash = None
    if right and state.status == "requested":
        order_code = queries(uow).unused_order_code(settings.code_key)
        order_code_hash = domain.code_hash(settings.code_key, "order", order_code)
    decide(uow, state, lambda: domain.confirm(state, right, order_code_hash, now))
    send_email(uow, state, emails.order_code(reference, state, order_code))
    return {"booking_id": booking_id, "status": "confirmed", "centre": state.centre,
            "service": state.service, "date": state.day.isoformat(),
            "time": state.time.strftime("%H:%M")}


def cancel_booking(uow, reference, settings, order_code, now):
    """Q-8 (cancellation with the order code): records ``BookingCancelled`` and emails the
    receipt; an unknown or inactive code is refused like any other (404, no hint which)."""
    state, _ = _load_by_order_code(uow, settings, order_code)
    decide(uow, state, lambda: domain.cancel(state, now))
    send_email(uow, state, emails.cancelled(reference, state, now))
    return {"booking_id": state.booking_id, "status": "cancelled"}


def expire_holds(uow, now, limit=200):
    """The sweep: every lapsed hold gives its place back. Safe with several instances
    running (SKIP LOCKED, and the expected version guards each stream)."""
    taken = queries(uow).lapsed_holds(now, limit)
    for booking_id in taken:
        state = load(uow, booking_id)
        decide(uow, state, lambda: domain.expire_hold(state, now))
    return len(taken)


def activate_booking(uow, settings, order_code, centre, kiosk_id, now, window):
    """Q-7 for the kiosk gateway (over RPC): activates the booking of ``order_code`` at
    ``centre`` and returns its slot (``domain.slot_of``). Raises the refusal kinds of
    ``domain.activate`` (a ``Lapsed`` keeps its ``BookingLapsed``); the RPC entrypoint
    answers each as its dict. The gateway sends the canonical code; anything else an
    RPC caller sends names no booking."""
    order_code = canonical_order_code(order_code)
    if order_code is None:
        raise domain.InvalidOrderCode()
    state, _ = _load_by_order_code(uow, settings, order_code,
                                   statuses=("confirmed", "activated"))
    decide(uow, state, lambda: domain.activate(state, centre, kiosk_id, now, window))
    return domain.slot_of(state)


def lapse_due(uow, now, window, limit=200):
    """Q-8, the scheduled job: confirmed bookings whose time plus grace has passed
    lapse. Correct with several instances running: each row is taken by one of them
    (SKIP LOCKED), and the expected version would refuse a second BookingLapsed."""
    lapsed = 0
    for booking_id in queries(uow).past_grace(now.astimezone(BAKU) - window.grace, limit):
        state = load(uow, booking_id)
        lapsed += len(decide(uow, state, lambda: domain.lapse(state, now, window)))
    return lapsed


def refuse_form(uow, reference, reasons, channel, raw, now):
    """Q-5 and M-2: a refused form is an event too (``domain.refuse_form``, on a stream
    of its own). Raises ``FormRefused(reasons)``, recorded with its event."""
    refusal_id = str(uuid.uuid4())
    uow.decide(f"refusal-{refusal_id}", NO_STREAM, lambda: domain.refuse_form(
        refusal_id, reasons, channel, raw, reference, now))


def free_slots(read, reference, centre_code, service_code, day, now, policy):
    """Q-1: the free places of each slot of ``service_code`` at ``centre_code`` on ``day``
    (a list of ``{"time", "free", "capacity"}``) and the reasons the day cannot be booked
    (a list of ``Reason``, then no slots); ``NotFound`` for an unknown centre or service.
    ``read``: the read-model queries (``read_model.Queries``)."""
    centre = reference.centres.get(centre_code)
    service = reference.services.get(service_code)
    if centre is None or service is None:
        raise NotFound(Text("unknown", "Belə mərkəz və ya xidmət yoxdur.",
                            "No such centre or service."))
    visit = domain.Visit(centre_code, service_code, day, None)
    problems = [p for p in domain.visit_problems(visit, reference, now, policy)
                if p.field != "time"]
    if problems:
        return [], problems
    if read.closed_on(centre_code, service_code, day):  # issue 17 §6
        text = domain.CENTRE_CLOSED
        return [], [Reason("date", text.code, text.az, text.en)]
    taken = read.taken_places(centre_code, service_code, day, now)
    slots = []
    for moment in reference.slot_times(centre, service, day):
        free = service.counters - taken.get(moment, 0)
        slots.append({"time": moment.strftime("%H:%M"), "free": max(free, 0),
                      "capacity": service.counters})
    return slots, []


def search(read, key, criteria):
    """Q-9: bookings matching any given criterion, newest first (``read_model.search``).
    The ID card, phone and order code come in their canonical forms
    (``OperatorSearchSchema``), the forms they are stored and hashed in; the email is
    looked up as the form stored it. 400 ``no_criteria`` without any."""
    if not any(criteria.get(name) for name in ("booking_id", "id_card", "email", "phone",
                                               "order_code")):
        raise ValidationFailed([Reason(None, "no_criteria", "Ən azı bir axtarış meyarı verin.",
                                       "Give at least one search criterion.")])
    if criteria.get("email"):
        criteria = {**criteria, "email": _as_stored(criteria["email"])}
    return read.search(key, criteria)


def _as_stored(email):
    """An address in the form the form stored it (``LEYLA@XN--BAK-LUA.AZ`` finds
    ``leyla@bakı.az``); one the form would refuse is looked up as typed."""
    try:
        return normalize_email(email)
    except EmailRefused:
        return email.strip()


HIDDEN = ("code_hash", "order_code_hash")


def history(read, booking_id):
    """Q-9: the whole history of a booking, for the call centre (never the codes)."""
    events = read.history(booking_id)
    if not events:
        raise NotFound(Text("no_booking", "Belə növbə tapılmadı.", "No such booking."))
    return [{"version": event.version, "type": event.type,
             "time": event.envelope.time.astimezone(BAKU).isoformat(),
             "data": {k: v for k, v in event.data.items() if k not in HIDDEN}}
            for event in events]


# --- reschedule, and a new order code (issue 17 §5) ----------------------------------

def reschedule_booking(uow, reference, settings, order_code, day, moment, now):
    """Issue 17 §5: the booking of ``order_code`` moves to ``day`` at ``moment`` (same
    centre and service) under a new booking's rules: Q-1, then the counted rules of
    every booking put on a day (``domain.check_counted``: the ID card's and the
    booking's client address's counts, this booking left out; a closed day; no caps
    on holds: a move takes none), and capacity (the projection takes the new place
    and gives the old one back in this transaction: ``slot_full`` moves nothing). One
    email with the new time; the order code stays valid. An unknown or inactive code
    is refused like cancellation's (404, no hint which)."""
    state, found = _load_by_order_code(uow, settings, order_code)
    if found is None:
        domain.movable(None, None, None, now)  # raises the uniform 404
    read = queries(uow)
    visit = domain.Visit(state.centre, state.service, day, moment)
    counts = read.counts(settings.policy, found.id_card, visit, found.client_address, now,
                         except_booking=found.booking_id)
    closed = read.closed_day(visit.centre, visit.day)
    events = domain.reschedule(state, visit, counts, closed, reference, now, settings.policy)
    _expire_stale_holds_of_slot(uow, visit, now)
    uow.record(state.stream_id, state.version, events)
    moved = events[0]
    send_email(uow, state, emails.rescheduled(reference, state, moved))
    return {"booking_id": state.booking_id, "status": "confirmed", "centre": state.centre,
            "service": state.service, "date": moved.date, "time": moved.time}


def visit_to_move(read, settings, order_code, now):
    """Issue 17 §5: what the pages show before a move — ``{centre, service, date,
    time}`` of the confirmed booking of ``order_code`` whose time has not come; nothing
    personal. Refused as :func:`reschedule_booking` refuses (404 ``no_active_booking``,
    no hint which codes exist; 409 ``visit_started``)."""
    found = read.find_by_order_code(settings.code_key, order_code)
    if found is None:
        domain.movable(None, None, None, now)  # raises the uniform 404
    domain.movable(found.status, found.day, found.time, now)
    return {"centre": found.centre, "service": found.service, "date": found.day.isoformat(),
            "time": found.time.strftime("%H:%M")}


def confirmed_bookings_of(read, id_card, email, day):
    """Issue 17 §5 (resend): the confirmed bookings of ``id_card`` (canonical) on ``day``
    whose email is ``email`` (compared as stored, case aside): what the citizen
    identifies a booking by when the order code is lost. A list of booking ids."""
    return read.confirmed_of(id_card, _as_stored(email), day)


def reissue_order_code(uow, reference, settings, booking_id, now):
    """Issue 17 §5 (resend): the booking gets a new order code (the old one stops
    working: only hashes are kept, so it cannot be sent again), emailed to the
    booking's own address. Nothing when it is no longer confirmed."""
    state = load(uow, booking_id)
    order_code = queries(uow).unused_order_code(settings.code_key)
    order_code_hash = domain.code_hash(settings.code_key, "order", order_code)
    if not decide(uow, state, lambda: domain.reissue_order_code(state, order_code_hash, now)):
        return False
    send_email(uow, state, emails.order_code_reissued(reference, state, order_code))
    return True


# --- the reminder the day before (issue 17 §4) ----------------------------------------

def remind_due(uow, reference, now, reminders, limit=200):
    """Issue 17 §4, the scheduled job: confirmed bookings whose visit is tomorrow
    (Baku) get ``BookingReminded`` and the reminder email, from ``reminders.hour`` on.
    Once per booking and day with several instances running: each row is taken by
    one of them (SKIP LOCKED), the domain sees ``reminded_for`` in the stream, and
    the expected version refuses a second append. Returns how many bookings it took
    (at most ``limit``: the caller runs it again, each chunk its own transaction)."""
    day = reminders.due_day(now)
    if day is None:
        return 0
    taken = queries(uow).due_reminders(day, now - reminders.quiet, limit)
    for booking_id in taken:
        state = load(uow, booking_id)
        if decide(uow, state, lambda: domain.remind(state, now, reminders)):
            send_email(uow, state, emails.reminder(reference, state))
    return len(taken)


# --- closures (issue 17 §6) -----------------------------------------------------------

def close_centre(uow, reference, closure, now, book_again_url):
    """Issue 17 §6: close ``closure.centre`` (or one service at it) on ``closure.day``.
    In one transaction: every booking of that day held or confirmed is cancelled
    (``BookingCancelled`` by closure, its place freed, an email saying why with a link
    to book again, ``book_again_url``), then ``CentreClosed`` is recorded with their
    number. Raises 400 (:func:`domain.closure_problems`) or 409 ``already_closed``.

    The closure stream is locked first (exclusively): a booking of that day being
    made now (``read_model.closed_day``, shared lock) has committed before the query
    below reads the day's bookings, or waits and is refused after this commits."""
    stream = domain.closure_stream(closure.centre, closure.day)
    state = uow.load(stream, domain.fold_closure)
    domain.check_close(state, closure, reference, now)
    closure_id = str(uuid.uuid4())
    cancelled = 0
    for booking_id in queries(uow).active_on(closure.centre, closure.service, closure.day):
        booking = load(uow, booking_id)
        events = decide(uow, booking, lambda: domain.cancel_for_closure(
            booking, closure_id, closure, now))
        if any(isinstance(event, BookingCancelled) for event in events):
            cancelled += 1
            send_email(uow, booking, emails.closed(reference, booking, closure, book_again_url,
                                                   now))
    uow.decide(stream, state.version, lambda: domain.close(closure_id, closure, now, cancelled))
    return {"closure_id": closure_id, "centre": closure.centre, "service": closure.service,
            "date": closure.day.isoformat(), "reason": closure.reason,
            "closed_at": now.isoformat(), "cancelled": cancelled}
