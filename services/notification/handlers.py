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
    """Append ``events`` (``(type, data)`` pairs) to the email's stream at its version;
    returns the state they lead to. The unit of work applies them to ``emails``."""
    if not events:
        return state
    uow.record(f"email-{events[0][1]['intent_id']}", state.version, events)
    for name, data in events:
        state = domain.evolve(state, name, data)
    return state


def known_of(uow, reference):
    """What is known of the booking ``reference`` names (``booking-<id>``, as
    committed), or ``None`` for a reference to anything else."""
    if not reference.startswith("booking-"):
        return None
    return domain.fold_booking((event.type, event.data)
                               for event in uow.store.read_stream(uow.conn, reference))


def note(uow, event):
    """Keep what one of booking's public events (an ``Envelope``) tells the email
    rules, in the stream ``booking-<id>``; nothing for a type they do not weigh."""
    data = event.data
    booking_id = str(data["booking_id"])
    events = domain.note(event.type, booking_id, event.time, data, event.correlationid,
                         event.id)
    if events:
        known = uow.load(f"booking-{booking_id}", domain.fold_booking)
        uow.record(f"booking-{booking_id}", known.version, events)


def deliver(uow, templates, sender, request, now, schedule):
    """Try to send the email of ``request`` (an ``Envelope``) once, at ``now`` (the
    service's clock), unless it is no longer true."""
    data = request.data
    intent = data["intent_id"]
    state = load(uow, intent)
    rendered = templates.render(data["template"], data["language"], data["variables"])
    variables = data["variables"]
    email = domain.Request(
        intent, rendered.template, rendered.version, rendered.language, data["reference"],
        data["to"],
        datetime.fromisoformat(data["deliver_by"]) if data.get("deliver_by") else None,
        asked_at=request.time, correlation_id=request.correlationid,
        visit=(str(variables["date"]), variables["time"])
        if variables.get("date") and variables.get("time") else None)
    known = known_of(uow, data["reference"])
    try:
        state = record(uow, state, domain.decide_send(state, email, now, known))
    except domain.AlreadyDealtWith as done:
        return Attempted(done.status)  # a duplicate request: the one email was dealt with
    except domain.Superseded as untrue:
        record(uow, state, untrue.events)  # ends it: never sent, whatever arrives later
        return Attempted(domain.SUPERSEDED)
    outcome = sender.send(smtp.build_message(rendered, sender.sender, data["to"], intent))
    [(_, tried)] = events = domain.decide_outcome(state, email, outcome, now, schedule)
    record(uow, state, events)
    return Attempted(outcome.status, tried.get("retry_in_seconds"))
