"""The notification API's answers (marshmallow): an email's delivery state, never
its content."""

from marshmallow import Schema, fields


class EmailState(Schema):
    """One email's delivery state as ``GET /emails/{reference}`` shows it (never its
    content)."""
    intent_id = fields.String()
    status = fields.String(metadata={"description": "created, sending, delivered, "
                                     "temporary-failure, permanent-failure, technical-failure"})
    template = fields.String()
    template_version = fields.Integer()
    attempts = fields.Integer()
    updated_at = fields.String()
