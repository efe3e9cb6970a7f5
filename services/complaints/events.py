"""The event types of the complaints service (its public contract). Who complained
and what they wrote stay here; outside systems see the lifecycle and the deadline.

Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve``
and the projection read."""
from marshmallow import Schema, fields, validate

from shared.vocabulary.email_request import EmailRequestedData
from shared.vocabulary.catalog import EventCatalog

# The services a complaint may be about (000 §3.5, 001 §3.6).
SERVICES = ("queue_booking", "fin_lookup")


class _Ref(Schema):
    complaint_id = fields.UUID(required=True)


class Complainant(Schema):
    """The complainant of ``ComplaintFiled`` (C-2; personal data: never public)."""
    name = fields.String(required=True)
    patronymic = fields.String(required=True)
    surname = fields.String(required=True)
    address = fields.String(required=True)
    email = fields.String(allow_none=True)
    postal_address = fields.String(allow_none=True)
    workplace = fields.String(allow_none=True)


class ComplaintFiledPublic(_Ref):
    """``ComplaintFiled`` as outside systems read it: the service, channel and dates, no
    personal data."""
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    channel = fields.String(required=True, validate=validate.OneOf(("electronic", "paper")))
    filed_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


class ComplaintFiledData(ComplaintFiledPublic):
    """``ComplaintFiled`` as stored: plus the reference number, the complainant and the
    text."""
    reference = fields.String(required=True)
    booking_id = fields.String(allow_none=True)
    scan_reference = fields.String(allow_none=True)
    complainant = fields.Nested(Complainant, required=True)
    text = fields.String(required=True)
    # The language the complainant's emails are written in (issue 16: the read model
    # keeps it, so the event carries it). Absent in complaints filed before: "az".
    language = fields.String(validate=validate.OneOf(("az", "en")))


class AcknowledgedData(_Ref):
    """``ComplaintAcknowledged``: the acknowledgement went by email or post."""
    by = fields.String(required=True, validate=validate.OneOf(("email", "post")))


class AssignedData(_Ref):
    """``ComplaintAssigned``: to which reviewer, when."""
    reviewer = fields.String(required=True)
    assigned_at = fields.AwareDateTime(required=True)


class AnsweredPublic(_Ref):
    """``ComplaintAnswered`` as outside systems read it: the decision, how it was delivered,
    when, and whether late (C-3)."""
    decision = fields.String(required=True, validate=validate.OneOf(("resolved", "rejected")))
    delivery = fields.String(required=True, validate=validate.OneOf(("email", "post")))
    answered_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(required=True)


class AnsweredData(AnsweredPublic):
    """``ComplaintAnswered`` as stored: plus the answer's text."""
    answer = fields.String(required=True)


class WithdrawnData(_Ref):
    """``ComplaintWithdrawn``: when."""
    withdrawn_at = fields.AwareDateTime(required=True)


class DeadlineData(_Ref):
    """``ComplaintDeadlineApproaching`` and ``ComplaintOverdue``: the complaint whose month
    (C-3) is nearly or wholly gone."""
    due_on = fields.Date(required=True)


CATALOG = EventCatalog("complaints")
ComplaintFiled = CATALOG.register("ComplaintFiled", ComplaintFiledData,
                                  public=ComplaintFiledPublic).event
ComplaintAcknowledged = CATALOG.register("ComplaintAcknowledged", AcknowledgedData).event
ComplaintAssigned = CATALOG.register("ComplaintAssigned", AssignedData).event
ComplaintAnswered = CATALOG.register("ComplaintAnswered", AnsweredData,
                                     public=AnsweredPublic).event
ComplaintWithdrawn = CATALOG.register("ComplaintWithdrawn", WithdrawnData).event
ComplaintDeadlineApproaching = CATALOG.register("ComplaintDeadlineApproaching",
                                                DeadlineData).event
ComplaintOverdue = CATALOG.register("ComplaintOverdue", DeadlineData).event
EmailRequested = CATALOG.register("EmailRequested", EmailRequestedData, public=None).event
