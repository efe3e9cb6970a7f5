"""Deliver one email request: exactly one email per intent.

The email's row is locked for the whole attempt, so two deliveries of the same
request cannot both send; a request whose email was delivered (or can never be) is
acknowledged without sending. A temporary or technical failure is recorded, and the
:class:`~.schedule.RetrySchedule` says when to try again (the service then asks the
consumer for the request again at that time) or that the failure is final
(``will_retry`` false): no try at or after the request's ``deliver_by``. The code
inside the request is rendered straight into the message and never stored here.
"""
from dataclasses import dataclass
from datetime import datetime

from . import sender as smtp

RETRYABLE = (smtp.TEMPORARY, smtp.TECHNICAL)
FINAL = ("delivered", smtp.PERMANENT)
EVENT_OF = {smtp.DELIVERED: "EmailDelivered", smtp.TEMPORARY: "EmailTemporaryFailure",
            smtp.PERMANENT: "EmailPermanentFailure", smtp.TECHNICAL: "EmailTechnicalFailure"}
OUTCOME_OF = {"EmailDelivered": "delivered", "EmailTemporaryFailure": "temporary",
              "EmailPermanentFailure": "permanent", "EmailTechnicalFailure": "technical"}


@dataclass(frozen=True)
class Attempted:
    status: str  # the email's state once this request was dealt with
    retry_in: float | None = None  # seconds: try again then (a temporary failure)


def deliver(uow, templates, sender, request, now, schedule):
    """Try to send the email of ``request`` once, at ``now`` (the service's clock)."""
    data = request.data
    intent = data["intent_id"]
    deliver_by = datetime.fromisoformat(data["deliver_by"]) if data.get("deliver_by") else None
    stream = f"email-{intent}"
    conn = uow.conn
    row = conn.execute("SELECT status, version FROM emails WHERE intent_id = %s FOR UPDATE",
                       (intent,)).fetchone()
    rendered = templates.render(data["template"], data["language"], data["variables"])
    common = {"intent_id": intent, "template": rendered.template,
              "template_version": rendered.version, "reference": data["reference"]}
    if row is None:
        conn.execute(
            "INSERT INTO emails (intent_id, status, template, template_version, language,"
            " reference, recipient, version) VALUES (%s, 'created', %s, %s, %s, %s, %s, 1)",
            (intent, rendered.template, rendered.version, rendered.language, data["reference"],
             data["to"]))
        uow.append(stream, 0, uow.new_event("EmailCreated", stream, {
            **common, "language": rendered.language, "requested_at": now.isoformat(),
            "deliver_by": deliver_by.isoformat() if deliver_by else None}))
        version = 1
    else:
        status, version = row
        if status in FINAL:
            return Attempted(status)  # a duplicate request: the one email was dealt with
    attempt = conn.execute(
        "UPDATE emails SET status = 'sending', attempts = attempts + 1,"
        " updated_at = clock_timestamp() WHERE intent_id = %s RETURNING attempts",
        (intent,)).fetchone()[0]
    outcome = sender.send(smtp.build_message(rendered, sender.sender, data["to"], intent))
    # Every earlier try of this intent failed too (one that did not was final).
    retry_in = schedule.next_try_in(attempt, now, deliver_by) \
        if outcome.status in RETRYABLE else None
    details = {"attempt": attempt}
    if outcome.status != smtp.DELIVERED:
        details |= {"will_retry": retry_in is not None, "retry_in_seconds": retry_in,
                    "smtp_code": outcome.smtp_code, "detail": outcome.detail}
    uow.append(stream, version, uow.new_event(EVENT_OF[outcome.status], stream,
                                              {**common, **details}))
    conn.execute("UPDATE emails SET status = %s, last_error = %s, version = %s,"
                 " updated_at = clock_timestamp() WHERE intent_id = %s",
                 (outcome.status, outcome.detail or None, version + 1, intent))
    return Attempted(outcome.status, retry_in)
