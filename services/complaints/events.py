"""The event types of the complaints service (its public contract). Who complained
and what they wrote stay here; outside systems see the lifecycle and the deadline."""
from marshmallow import Schema, fields, validate

from shared.email_request import EmailRequestedData
from shared.catalog import EventCatalog

from .domain import SERVICES


class _Ref(Schema):
    complaint_id = fields.UUID(required=True)


class Complainant(Schema):
    name = fields.String(required=True)
    patronymic = fields.String(required=True)
    surname = fields.String(required=True)
    address = fields.String(required=True)
    email = fields.String(allow_none=True)
    postal_address = fields.String(allow_none=True)
    workplace = fields.String(allow_none=True)


class ComplaintFiledPublic(_Ref):
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    channel = fields.String(required=True, validate=validate.OneOf(("electronic", "paper")))
    filed_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


class ComplaintFiledData(ComplaintFiledPublic):
    reference = fields.String(required=True)
    booking_id = fields.String(allow_none=True)
    scan_reference = fields.String(allow_none=True)
    complainant = fields.Nested(Complainant, required=True)
    text = fields.String(required=True)
    # The language the complainant's emails are written in (issue 16: the read model
    # keeps it, so the event carries it). Absent in complaints filed before: "az".
    language = fields.String(validate=validate.OneOf(("az", "en")))


class AcknowledgedData(_Ref):
    by = fields.String(required=True, validate=validate.OneOf(("email", "post")))


class AssignedData(_Ref):
    reviewer = fields.String(required=True)
    assigned_at = fields.AwareDateTime(required=True)


class AnsweredPublic(_Ref):
    decision = fields.String(required=True, validate=validate.OneOf(("resolved", "rejected")))
    delivery = fields.String(required=True, validate=validate.OneOf(("email", "post")))
    answered_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(required=True)


class AnsweredData(AnsweredPublic):
    answer = fields.String(required=True)


class WithdrawnData(_Ref):
    withdrawn_at = fields.AwareDateTime(required=True)


class DeadlineData(_Ref):
    due_on = fields.Date(required=True)


CATALOG = EventCatalog("complaints")
CATALOG.register("ComplaintFiled", ComplaintFiledData, public=ComplaintFiledPublic)
CATALOG.register("ComplaintAcknowledged", AcknowledgedData)
CATALOG.register("ComplaintAssigned", AssignedData)
CATALOG.register("ComplaintAnswered", AnsweredData, public=AnsweredPublic)
CATALOG.register("ComplaintWithdrawn", WithdrawnData)
CATALOG.register("ComplaintDeadlineApproaching", DeadlineData)
CATALOG.register("ComplaintOverdue", DeadlineData)
CATALOG.register("EmailRequested", EmailRequestedData, public=None)
