"""The notification API's answers (marshmallow): an email's delivery state, never
its content."""

from marshmallow import Schema, fields


class EmailState(Schema):
    """One email's delivery state as ``GET /emails/{reference}`` shows it (never its
    content)."""
    intent_id = fields.String()
    status = fields.String(metadata={"description": "created, delivered, "
                                     "temporary-failure, permanent-failure, technical-failure, "
                                     "superseded (never sent: no longer true)"})
    template = fields.String()
    template_version = fields.Integer()
    attempts = fields.Integer()
    updated_at = fields.String()
    superseded_by = fields.String(allow_none=True, metadata={
        "description": "when superseded: the booking event that made the email untrue "
                       "(e.g. BookingCancelled, BookingRescheduled); null otherwise"})
