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
  request: nothing is sent again);
* :func:`decide_outcome`: what the try gave, as the delivery state's event (GOV.UK
  Notify's states), with the attempt number counted from the events, and for a
  temporary or technical failure whether and when to try again, from the
  :class:`~.schedule.RetrySchedule` and the request's ``deliver_by`` (issue 12).

Neither the address nor the content nor a code is decided on here: the recipient is
carried into ``EmailCreated`` for the ``emails`` read model only (never public).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.decider import folder

# The delivery states (GOV.UK Notify's), as the SMTP sender classifies a try.
DELIVERED = "delivered"
TEMPORARY = "temporary-failure"
PERMANENT = "permanent-failure"
TECHNICAL = "technical-failure"

CREATED = "created"
NEW = "new"  # no event yet
RETRYABLE = (TEMPORARY, TECHNICAL)
FINAL = (DELIVERED, PERMANENT)  # never tried again, whatever arrives
EVENT_OF = {DELIVERED: "EmailDelivered", TEMPORARY: "EmailTemporaryFailure",
            PERMANENT: "EmailPermanentFailure", TECHNICAL: "EmailTechnicalFailure"}
STATUS_OF = {event_type: status for status, event_type in EVENT_OF.items()}
# The outcome label of each try's event (the ``asan_emails_total`` metric).
OUTCOME_OF = {"EmailDelivered": "delivered", "EmailTemporaryFailure": "temporary",
              "EmailPermanentFailure": "permanent", "EmailTechnicalFailure": "technical"}


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
    ``None``: a request from before it existed)."""
    intent_id: str
    template: str
    template_version: int
    language: str
    reference: str
    recipient: str
    deliver_by: datetime | None = None

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


def evolve(state, event_type, data):
    """The email after one more event of its stream."""
    state = replace(state, version=state.version + 1)
    if event_type == "EmailCreated":
        deliver_by = data.get("deliver_by")
        return replace(state, intent_id=data["intent_id"], status=CREATED,
                       deliver_by=datetime.fromisoformat(deliver_by) if deliver_by else None)
    if event_type in STATUS_OF:
        return replace(state, status=STATUS_OF[event_type], attempts=data["attempt"])
    return state


# The state of an email from its ``(type, data)`` events, oldest first.
fold = folder(Email(), evolve)


def decide_send(state, request, now):
    """May the email of ``request`` be tried now (at ``now``, aware)? The events to
    record before the try: ``EmailCreated`` for the first request of the intent, none
    for one tried before that may be tried again. Raises :class:`AlreadyDealtWith`
    when the email was delivered or refused for good (Q-2, Q-4: one email each)."""
    if state.status in FINAL:
        raise AlreadyDealtWith(state.status)
    if state.status != NEW:
        return []
    return [("EmailCreated", {
        **request.common(), "language": request.language, "requested_at": now.isoformat(),
        "deliver_by": request.deliver_by.isoformat() if request.deliver_by else None,
        "recipient": request.recipient})]


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
    return [(EVENT_OF[outcome.status], {**request.common(), **details})]
