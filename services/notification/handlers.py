"""Deliver one email request: exactly one email per intent.

The email's row is locked for the whole attempt, so two deliveries of the same
request cannot both send; a request whose email was delivered (or can never be) is
acknowledged without sending. A temporary or technical failure is recorded and the
request is retried by the consumer's back-off; on the last attempt the failure is
final. The code inside the request is rendered straight into the message and never
stored here.
"""
from . import sender as smtp

RETRYABLE = (smtp.TEMPORARY, smtp.TECHNICAL)
FINAL = ("delivered", smtp.PERMANENT)
EVENT_OF = {smtp.DELIVERED: "EmailDelivered", smtp.TEMPORARY: "EmailTemporaryFailure",
            smtp.PERMANENT: "EmailPermanentFailure", smtp.TECHNICAL: "EmailTechnicalFailure"}
OUTCOME_OF = {"EmailDelivered": "delivered", "EmailTemporaryFailure": "temporary",
              "EmailPermanentFailure": "permanent", "EmailTechnicalFailure": "technical"}


class TryAgainLater(Exception):
    """Raised after the failure was committed, so that the consumer retries."""


def deliver(uow, templates, sender, request, delivery, now):
    data = request.data
    intent = data["intent_id"]
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
            **common, "language": rendered.language, "requested_at": now.isoformat()}))
        version = 1
    else:
        status, version = row
        if status in FINAL:
            return status  # a duplicate request: the one email was already dealt with
    conn.execute("UPDATE emails SET status = 'sending', attempts = attempts + 1,"
                 " updated_at = clock_timestamp() WHERE intent_id = %s", (intent,))
    outcome = sender.send(smtp.build_message(rendered, sender.sender, data["to"], intent))
    will_retry = outcome.status in RETRYABLE and not delivery.final
    details = {"attempt": delivery.attempt}
    if outcome.status != smtp.DELIVERED:
        details |= {"will_retry": will_retry, "smtp_code": outcome.smtp_code,
                    "detail": outcome.detail}
    uow.append(stream, version, uow.new_event(EVENT_OF[outcome.status], stream,
                                              {**common, **details}))
    conn.execute("UPDATE emails SET status = %s, last_error = %s, version = %s,"
                 " updated_at = clock_timestamp() WHERE intent_id = %s",
                 (outcome.status, outcome.detail or None, version + 1, intent))
    return "retry" if will_retry else outcome.status
