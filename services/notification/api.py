"""The notification service's HTTP API, described once: routes for OpenAPI."""

from shared.edge.openapi import Route, build_spec

from .schemas import EmailState

ROUTES = [
    Route("GET", "/emails/{reference}", "Delivery states of the emails about one thing "
          "(e.g. booking-<id>); never their content. Staff: the call centre's token",
          response=EmailState, many=True, security=True, tags=("staff",),
          description="Staff only: the call centre's bearer token (the one booking's "
                      "staff routes take; its hash in `NOTIFICATION_OPERATOR_TOKEN_SHA256`). "
                      "Booking ids are in public events, so without a valid token the "
                      "answer is 401 `unauthorized`, whatever the reference."),
]


def spec():
    """The OpenAPI 3 document of the notification API."""
    return build_spec("ASAN xidmət — notifications", "1.0.0",
                      "Emails to citizens: versioned templates, SMTP delivery states.", ROUTES)
