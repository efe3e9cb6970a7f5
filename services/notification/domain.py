"""The rules of sending one email, pure: no database, no broker, no SMTP, no clock of
its own. A unit test reads "given these events, when this command, then these events
(or this refusal)".

An email is one stream, ``email-<intent id>``: exactly one email per intent, however
often its request arrives (Q-2, Q-4, C-1, C-3). :func:`evolve` folds its events into
:class:`Email`. Sending is two decisions around the SMTP conversation the service
layer has in between (``handlers.deliver``):

* :func:`decide_send`: may we try now? ``EmailCreated`` for the first request, nothing
  for a redelivery of one that was tried and may be tried again, and the refusal
  :class:`AlreadyDealtWith` when it was delivered or can never be (a duplicate
  request: nothing is sent again), or :class:`Superseded` when what it says is no
  longer true (below);
* :func:`decide_outcome`: what the try gave, as the delivery state's event (GOV.UK
  Notify's states), with the attempt number counted from the events, and for a
  temporary or technical failure whether and when to try again, from the
  :class:`~.schedule.RetrySchedule` and the request's ``deliver_by`` (issue 12).

An email that is no longer true is never sent. What booking's public events tell
(noted by the service in its own log, stream ``booking-<id>``, one
``BookingEventNoted`` each: :func:`note`, folded by :func:`fold_booking`) is
weighed at *every* try, by one rule per template (:data:`RULES`, :func:`untrue`):

=============================== =====================================================
template                        goes out while, since it was asked for, …
=============================== =====================================================
booking_confirmation_code       the hold is still only requested: no CodeConfirmed,
                                HoldExpired, BookingVoided, BookingCancelled… (Q-2)
booking_order_code,             the booking is not cancelled, voided, lapsed or
booking_order_code_reissued     activated and got no newer order code
                                (OrderCodeReissued) (Q-4); a move keeps the code
booking_reminder,               the booking is not ended (as above) and is still at
booking_rescheduled             the date and time the email states
booking_cancelled,              always: a receipt of something that happened stays
booking_closed                  true (a closure reaches a booking as its
                                BookingCancelled by closure)
complaint_acknowledged,         always: the complaint was filed / answered, whatever
complaint_answered              comes after (a withdrawal is its own news)
=============================== =====================================================

Only what happened *after* the email was asked for counts: a booking event later than
the request's envelope time and not of the same command (another correlation id).
Booking composed the email from everything before, so an event noted late (the two
exchanges are consumed apart, in either order) never makes a true email false, and
one that arrives before the request, or between two tries, supersedes it alike. The
email then ends ``superseded`` (``EmailSuperseded``, with the booking event that made
it untrue), final like ``delivered``.

Neither the address nor the content nor a code is decided on here: the recipient is
carried into ``EmailCreated`` for the ``emails`` read model only (never public).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.vocabulary.decider import folder
from shared.vocabulary.errors import Conflict, Text

from .events import (CATALOG, BookingEventNoted, EmailCreated, EmailDelivered,
                     EmailPermanentFailure, EmailSuperseded, EmailTechnicalFailure,
                     EmailTemporaryFailure)

# The delivery states (GOV.UK Notify's), as the SMTP sender classifies a try.
DELIVERED = "delivered"
TEMPORARY = "temporary-failure"
PERMANENT = "permanent-failure"
TECHNICAL = "technical-failure"

SUPERSEDED = "superseded"  # never tried again: what it says is no longer true

CREATED = "created"
NEW = "new"  # no event yet
RETRYABLE = (TEMPORARY, TECHNICAL)
FINAL = (DELIVERED, PERMANENT, SUPERSEDED)  # never tried again, whatever arrives
EVENT_OF = {DELIVERED: EmailDelivered, TEMPORARY: EmailTemporaryFailure,
            PERMANENT: EmailPermanentFailure, TECHNICAL: EmailTechnicalFailure}
STATUS_OF = {event_class: status for status, event_class in EVENT_OF.items()}
# The outcome label of each try's event (the ``asan_emails_total`` metric).
OUTCOME_OF = {EmailDelivered: "delivered", EmailTemporaryFailure: "temporary",
              EmailPermanentFailure: "permanent", EmailTechnicalFailure: "technical",
              EmailSuperseded: "superseded"}


@dataclass(frozen=True)
class Email:
    """One email's state: ``status`` is :data:`NEW`, :data:`CREATED` or the last try's
    delivery state; ``attempts``: tries made; ``version``: events in its stream."""
    intent_id: str | None = None
    status: str = NEW
    attempts: int = 0
    deliver_by: datetime | None = None
    version: int = 0

    @property
    def stream_id(self):
        """``email-<intent_id>``: the email's event stream."""
        return f"email-{self.intent_id}"


@dataclass(frozen=True)
class Request:
    """What one email request asks for, as rendered: ``template``/``template_version``
    of the rendered message, its ``language``, ``reference`` (what it is about, e.g.
    ``booking-<id>``), ``recipient`` (the address), ``deliver_by`` (aware, or
    ``None``: a request from before it existed); for :func:`untrue`: ``asked_at``
    (aware: the request's envelope time) and ``visit`` (``(date, "HH:MM")`` it
    states, ISO date, or ``None``)."""
    intent_id: str
    template: str
    template_version: int
    language: str
    reference: str
    recipient: str
    deliver_by: datetime | None = None
    asked_at: datetime | None = None
    visit: tuple | None = None

    def common(self):
        """The fields every event of the email carries (no address, no content)."""
        return {"intent_id": self.intent_id, "template": self.template,
                "template_version": self.template_version, "reference": self.reference}


class AlreadyDealtWith(Exception):
    """A request for an email that was delivered, or refused for good (a 5xx): it is
    acknowledged without sending (exactly one email per intent). ``status``: the
    email's delivery state."""

    def __init__(self, status):
        super().__init__(f"the email was already dealt with: {status}")
        self.status = status


class Superseded(Conflict):
    """The email says what is no longer true (``superseded_by``: the booking event
    that made it so): it is never sent. Carries the events that end it
    (``EmailCreated`` first when it was never tried, then ``EmailSuperseded``)."""

    def __init__(self, superseded_by, events):
        super().__init__(Text("superseded", "Məktubdakı məlumat artıq doğru deyil.",
                              "What the email says is no longer true."), events=events)
        self.superseded_by = superseded_by


def evolve(state, event):
    """The email after one more (typed) event of its stream."""
    state = replace(state, version=state.version + 1)
    match event:
        case EmailCreated():
            return replace(state, intent_id=event.intent_id, status=CREATED,
                           deliver_by=datetime.fromisoformat(event.deliver_by)
                           if event.deliver_by else None)
        case EmailDelivered() | EmailTemporaryFailure() | EmailPermanentFailure() \
                | EmailTechnicalFailure():
            return replace(state, status=STATUS_OF[type(event)], attempts=event.attempt)
        case EmailSuperseded():
            return replace(state, status=SUPERSEDED)
    return state


# The state of an email from its events (typed, or ``(type, data)`` pairs), oldest first.
fold = folder(Email(), evolve, CATALOG)


def decide_send(state, request, now, known=None):
    """May the email of ``request`` be tried now (at ``now``, aware), given what is
    ``known`` of its booking (a :class:`BookingKnown`; ``None``: nothing)? The events to
    record before the try: ``EmailCreated`` for the first request of the intent, none
    for one tried before that may be tried again. Raises :class:`AlreadyDealtWith`
    when the email was delivered, refused for good or superseded (Q-2, Q-4: one email
    each), :class:`Superseded` (with the events that end it) when what it says is no
    longer true (:func:`untrue`)."""
    if state.status in FINAL:
        raise AlreadyDealtWith(state.status)
    created = [] if state.status != NEW else [EmailCreated(
        **request.common(), language=request.language, requested_at=now.isoformat(),
        deliver_by=request.deliver_by.isoformat() if request.deliver_by else None,
        recipient=request.recipient)]
    superseded_by = untrue(request, known or BookingKnown())
    if superseded_by is not None:
        raise Superseded(superseded_by, created + [EmailSuperseded(
            **request.common(), attempts=state.attempts, superseded_by=superseded_by,
            superseded_at=now.isoformat())])
    return created


def decide_outcome(state, request, outcome, now, schedule):
    """The event of one try's ``outcome`` (``.status``: a delivery state, ``.smtp_code``,
    ``.detail``) on the email ``state`` (created, not final) at ``now``: its attempt
    number is one more than the tries before. A temporary or technical failure says
    whether the email will be tried again and in how many seconds (issue 12 item 5:
    while ``deliver_by`` allows; :class:`~.schedule.RetrySchedule`); a permanent one
    never will."""
    attempt = state.attempts + 1
    details = {"attempt": attempt}
    if outcome.status != DELIVERED:
        # Every earlier try of this intent failed too (one that did not was final).
        retry_in = schedule.next_try_in(attempt, now, state.deliver_by) \
            if outcome.status in RETRYABLE else None
        details |= {"will_retry": retry_in is not None, "retry_in_seconds": retry_in,
                    "smtp_code": outcome.smtp_code, "detail": outcome.detail}
    return [EVENT_OF[outcome.status](**request.common(), **details)]


# --- what is known of a booking, and which emails it leaves true ----------------------

# The booking events noted (their public form is enough): a hold's, a booking's end, a
# move, a new order code. The rest (CodeRejected, BookingReminded…) change no email.
NOTED = ("BookingRequested", "CodeConfirmed", "HoldExpired", "BookingVoided",
         "BookingCancelled", "BookingRescheduled", "OrderCodeReissued", "BookingActivated",
         "BookingLapsed")
# After any of these the booking is over: no visit to remind of, no code to use.
ENDED = ("HoldExpired", "BookingVoided", "BookingCancelled", "BookingActivated",
         "BookingLapsed")


@dataclass(frozen=True)
class Fact:
    """One booking event as noted: its ``type``, ``at`` (aware: its envelope time),
    the ``visit`` it names (``(date, "HH:MM")`` or ``None``)."""
    type: str
    at: datetime
    visit: tuple | None = None


@dataclass(frozen=True)
class BookingKnown:
    """What notification knows of one booking: its noted :class:`Fact` s, oldest
    first (by ``at``, whatever order they arrived in); ``version``: events in the
    ``booking-<id>`` stream of notification's log."""
    facts: tuple = ()
    version: int = 0


def note(event, at, correlation_id, event_id):
    """The ``BookingEventNoted`` of one booking event (``event``: booking's typed
    public event, its envelope time ``at`` (aware), correlation and event ids);
    ``[]`` for a type that changes no email (not in :data:`NOTED`). The visit is
    noted from the types whose schema names one (a slot: ``date`` and ``time``)."""
    if event.event_type not in NOTED:
        return []
    slot = "date" in event.declared and "time" in event.declared
    return [BookingEventNoted(
        booking_id=str(event.booking_id), event_id=event_id, type=event.event_type,
        at=at.isoformat(), date=event.date if slot else None,
        time=event.time if slot else None, correlation_id=correlation_id)]


def evolve_booking(state, event):
    """What is known of a booking after one more (typed) ``BookingEventNoted``."""
    state = replace(state, version=state.version + 1)
    if not isinstance(event, BookingEventNoted):
        return state
    visit = (str(event.date), event.time) if event.date and event.time else None
    fact = Fact(event.type, datetime.fromisoformat(event.at), visit)
    return replace(state, facts=tuple(sorted(state.facts + (fact,), key=lambda f: f.at)))


# What is known of a booking from the events of its stream (typed, or pairs).
fold_booking = folder(BookingKnown(), evolve_booking, CATALOG)


def _while_held(request, later):
    """A confirmation code: of use while the hold is only requested."""
    return next((f.type for f in later if f.type != "BookingRequested"), None)


def _while_code_current(request, later):
    """An order code: of use while the booking lasts and no newer code replaced it."""
    return next((f.type for f in later if f.type in ENDED or f.type == "OrderCodeReissued"),
                None)


def _while_at_its_time(request, later):
    """A reminder, a move's news: true while the booking lasts at the visit it states."""
    ended = next((f.type for f in later if f.type in ENDED), None)
    if ended is not None:
        return ended
    placed = [f for f in later if f.visit is not None]
    if request.visit is not None and placed and placed[-1].visit != request.visit:
        return placed[-1].type
    return None


def _always(request, later):
    """A receipt of what happened: true whatever comes after."""
    return None


# One rule per template (services/notification/templates/catalog.yaml; a test holds
# the two together): what may make an email of it untrue.
RULES = {
    "booking_confirmation_code": _while_held,
    "booking_order_code": _while_code_current,
    "booking_order_code_reissued": _while_code_current,
    "booking_reminder": _while_at_its_time,
    "booking_rescheduled": _while_at_its_time,
    "booking_cancelled": _always,
    "booking_closed": _always,
    "complaint_acknowledged": _always,
    "complaint_answered": _always,
}


def untrue(request, known):
    """``None`` while the email of ``request`` is still true given ``known`` (a
    :class:`BookingKnown`), else the type of the booking event that made it untrue
    (e.g. ``"BookingCancelled"``), by its template's rule (:data:`RULES`; the module
    says which). Only facts after the request (later than ``asked_at``) count: a
    command records its events before it asks for its email, so its own events are
    earlier, and a later one is another command's — whatever correlation id a client
    sent with both, which tells nothing. A request without ``asked_at`` is judged on
    none. ``KeyError``
    for a template without a rule."""
    rule = RULES[request.template]
    if request.asked_at is None:
        return None
    later = [fact for fact in known.facts if fact.at > request.asked_at]
    return rule(request, later) if later else None
