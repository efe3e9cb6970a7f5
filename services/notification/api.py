"""The notification service's HTTP API, described once: routes for OpenAPI."""

from shared.openapi import Route, build_spec

from .schemas import EmailState

ROUTES = [
    Route("GET", "/emails/{reference}", "Delivery states of the emails about one thing "
          "(e.g. booking-<id>); never their content", response=EmailState, many=True),
]


def spec():
    """The OpenAPI 3 document of the notification API."""
    return build_spec("ASAN xidmət — notifications", "1.0.0",
                      "Emails to citizens: versioned templates, SMTP delivery states.", ROUTES)
