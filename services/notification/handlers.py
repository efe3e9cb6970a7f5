"""Deliver one email request: exactly one email per intent.

The service layer of notification: load the email (its stream ``email-<intent>``,
locked for the rest of the transaction by ``uow.read_stream``, so two deliveries of
the same request take turns and the second sees what the first recorded), let the
domain decide (:func:`~.domain.decide_send`: a request whose email was delivered, or
can never be, is acknowledged without sending), try the SMTP send inside the
transaction, and record the outcome's event (:func:`~.domain.decide_outcome`). The
``emails`` read model follows from the events (``read_model.apply``, at the unit of
work's flush). A temporary or technical failure says when to try again (the service
then asks the consumer for the request again at that time) or that the failure is
final (``will_retry`` false): no try at or after the request's ``deliver_by``. The
code inside the request is rendered straight into the message and never stored here.

Before each try the domain also weighs what is known of the email's booking (the
``booking-<id>`` stream of this service's log, read as committed, not locked: a try
does not hold back the noting of its booking's events for an SMTP conversation; an
event noted while a try is under way counts from the next one): an email that is no
longer true ends ``superseded`` and is not sent (``domain.untrue``). :func:`note` keeps that stream:
one ``BookingEventNoted`` per booking event that can make an email untrue.
"""
from dataclasses import dataclass
from datetime import datetime

from services.booking.events import CATALOG as BOOKING_EVENTS

from . import domain
from . import sender as smtp

OUTCOME_OF = domain.OUTCOME_OF
NOTED = domain.NOTED  # the booking events the email rules weigh


@dataclass(frozen=True)
class Attempted:
    """What became of one email request: the email's state after it, and in how many seconds
    to try again (a temporary failure), if at all."""
    status: str  # the email's state once this request was dealt with
    retry_in: float | None = None  # seconds: try again then (a temporary failure)


def load(uow, intent_id):
    """The email of ``intent_id``, folded from its stream (now locked for this
    transaction)."""
    return uow.load(f"email-{intent_id}", domain.fold)


def record(uow, state, events):
    """Append ``events`` (typed) to the email's stream at its version; returns the
    state they lead to. The unit of work applies them to ``emails``."""
    if not events:
        return state
    uow.record(f"email-{events[0].intent_id}", state.version, events)
    for event in events:
        state = domain.evolve(state, event)
    return state


def known_of(uow, reference):
    """What is known of the booking ``reference`` names (``booking-<id>``, as
    committed), or ``None`` for a reference to anything else."""
    if not reference.startswith("booking-"):
        return None
    return domain.fold_booking((recorded.type, recorded.data)
                               for recorded in uow.store.read_stream(uow.conn, reference))


def note(uow, envelope):
    """Keep what one of booking's public events (an ``Envelope``, read by booking's
    public contract) tells the email rules, in the stream ``booking-<id>``; nothing
    for a type they do not weigh."""
    event = BOOKING_EVENTS.read_public(envelope)
    events = domain.note(event, envelope.time, envelope.correlationid, envelope.id)
    if events:
        stream = f"booking-{events[0].booking_id}"
        uow.record(stream, uow.load(stream, domain.fold_booking).version, events)


def deliver(uow, templates, sender, request, now, schedule, requests):
    """Try to send the email of ``request`` (an ``Envelope`` of ``EmailRequested``,
    read by ``requests``: its sender's request catalogue) once, at ``now`` (the
    service's clock), unless it is no longer true."""
    asked = requests.read(request.type, request.data)
    intent = asked.intent_id
    state = load(uow, intent)
    rendered = templates.render(asked.template, asked.language, asked.variables)
    variables = asked.variables
    email = domain.Request(
        intent, rendered.template, rendered.version, rendered.language, asked.reference,
        asked.to, datetime.fromisoformat(asked.deliver_by) if asked.deliver_by else None,
        asked_at=request.time,
        visit=(str(variables["date"]), variables["time"])
        if variables.get("date") and variables.get("time") else None)
    known = known_of(uow, asked.reference)
    try:
        state = record(uow, state, domain.decide_send(state, email, now, known))
    except domain.AlreadyDealtWith as done:
        return Attempted(done.status)  # a duplicate request: the one email was dealt with
    except domain.Superseded as untrue:
        record(uow, state, untrue.events)  # ends it: never sent, whatever arrives later
        return Attempted(domain.SUPERSEDED)
    outcome = sender.send(smtp.build_message(rendered, sender.sender, asked.to, intent))
    [tried] = events = domain.decide_outcome(state, email, outcome, now, schedule)
    record(uow, state, events)
    return Attempted(outcome.status, None if outcome.status == domain.DELIVERED
                     else tried.retry_in_seconds)
