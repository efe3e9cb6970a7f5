"""The kiosk gateway's HTTP API, described once: routes for OpenAPI."""

from shared.openapi import Route, build_spec

from .schemas import OrderCodeBody, WalkInBody, NewKioskBody, TicketResponse, KioskCredential

ROUTES = [
    Route("POST", "/kiosk/activations", "Activate a booking with its order code; print the "
          "ticket (Q-7). Repeating the same request returns the same ticket.",
          request=OrderCodeBody, response=TicketResponse, security=True, command=True,
          tags=("kiosk",), errors={400: ("validation_failed",), 404: ("invalid_code",),
                                   409: ("other_centre", "too_early"), 410: ("lapsed",),
                                   429: ("too_many_requests",)},
          description="404 invalid_code for an unknown, used or cancelled code alike; 409 "
                      "other_centre or too_early (with the time it opens); 410 lapsed; 429 "
                      "after repeated wrong codes (Retry-After)."),
    Route("POST", "/kiosk/walk-ins", "A ticket without a booking (own number series)",
          request=WalkInBody, response=TicketResponse, security=True, command=True, once=True,
          tags=("kiosk",), errors={400: ("validation_failed",), 404: ("not_offered",),
                                   409: ("centre_closed",)}),
    Route("POST", "/kiosk/heartbeat", "The kiosk is alive", security=True, tags=("kiosk",)),
    Route("GET", "/kiosk/queue", "Today's tickets of the kiosk's centre, in call order",
          security=True, tags=("kiosk",)),
    Route("POST", "/admin/kiosks", "Register a kiosk of a centre; its credential is shown once",
          request=NewKioskBody, response=KioskCredential, status=201, security=True,
          command=True, once=True, tags=("admin",), errors={400: ("validation_failed",),
                                                  404: ("unknown_centre",)}),
    Route("POST", "/admin/kiosks/{kiosk_id}/rotate", "A new credential; the old one stops working",
          response=KioskCredential, security=True, command=True, tags=("admin",),
          errors={404: ("unknown_kiosk",), 409: ("revoked",)}),
    Route("POST", "/admin/kiosks/{kiosk_id}/revoke", "The kiosk is refused from now on",
          security=True, command=True, tags=("admin",), errors={404: ("unknown_kiosk",)}),
    Route("GET", "/admin/kiosks", "Kiosks, their status and last heartbeat", security=True,
          tags=("admin",)),
]


def spec():
    """The gateway's OpenAPI 3.0.3 document (a ``dict``), served at ``GET /openapi.json``."""
    return build_spec("ASAN xidmət — kiosk gateway", "1.0.0",
                      "The only door for the queue machines at the centres (D-5).", ROUTES)
