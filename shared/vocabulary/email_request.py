"""The contract between a service that sends email and the notification service: one
email request (``EmailRequested``), over the sender's private exchange (it may carry
a code, so never in a public event). Here, in ``shared``, so that a sender and the
notification service both depend on it and not on each other (issue 16: booking and
complaints imported notification's contract while notification imported their event
catalogues).

``deliver_by`` says until when the email is of use, and so how long a temporary
failure (a 451, greylisting) or a technical one is tried again: a confirmation code
until the hold expires (Q-2), an order code until the visit (Q-4), a receipt (a
cancellation, a complaint's acknowledgement or answer) for :data:`RECEIPT_WINDOW`.
A request without it (sent before it existed) gets the consumer's old three retries.
"""
from datetime import timedelta

from marshmallow import Schema, fields, validate

from .catalog import EventCatalog

# GOV.UK Notify gives up on an email after about 72 hours; so do we for an email that
# is not bound to a moment of its own.
RECEIPT_WINDOW = timedelta(hours=72)


class EmailRequestedData(Schema):
    """``EmailRequested``: which template in which language to whom (``to``), about
    what (``reference``), with which variables; one email per ``intent_id``."""

    intent_id = fields.String(required=True)  # one email per intent, however often sent
    template = fields.String(required=True)
    language = fields.String(required=True, validate=validate.OneOf(("az", "en")))
    to = fields.String(required=True)
    reference = fields.String(required=True)  # e.g. booking-<id>: what the email is about
    variables = fields.Dict(keys=fields.String(), required=True)
    deliver_by = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "no try after this instant: temporary failures are tried until then"})


def request_catalog(sender):
    """The catalogue by which the notification service reads ``sender``'s email
    requests: ``EmailRequested`` only, private (the sender registers the same schema in
    its own catalogue)."""
    catalog = EventCatalog(sender)
    catalog.register("EmailRequested", EmailRequestedData, public=None)
    return catalog
