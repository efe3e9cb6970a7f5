"""The notification service's HTTP API, described once: routes for OpenAPI."""
from marshmallow import Schema, fields

from shared.openapi import Route, build_spec


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


ROUTES = [
    Route("GET", "/emails/{reference}", "Delivery states of the emails about one thing "
          "(e.g. booking-<id>); never their content", response=EmailState, many=True),
]


def spec():
    """The OpenAPI 3 document of the notification API."""
    return build_spec("ASAN xidmət — notifications", "1.0.0",
                      "Emails to citizens: versioned templates, SMTP delivery states.", ROUTES)
