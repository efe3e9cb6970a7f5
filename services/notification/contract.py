"""What a service sends the notification service: one email request, over the
sender's private exchange (it may carry a code, so never in a public event)."""
from marshmallow import Schema, fields, validate


class EmailRequestedData(Schema):
    intent_id = fields.String(required=True)  # one email per intent, however often sent
    template = fields.String(required=True)
    language = fields.String(required=True, validate=validate.OneOf(("az", "en")))
    to = fields.String(required=True)
    reference = fields.String(required=True)  # e.g. booking-<id>: what the email is about
    variables = fields.Dict(keys=fields.String(), required=True)
