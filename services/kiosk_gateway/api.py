"""The kiosk gateway's HTTP API, described once: routes for OpenAPI."""
from marshmallow import Schema, fields

from shared import fields as asan
from shared.openapi import Route, build_spec


class OrderCodeBody(Schema):
    """A malformed order code is refused here (400), before booking is asked: it
    names no booking, so it is not counted as one of the kiosk's wrong codes."""
    order_code = asan.OrderCode(required=True, metadata={"example": "K7M2-QX4P"})


class WalkInBody(Schema):
    """Body of ``POST /kiosk/walk-ins``: the code of the service the visitor chose."""
    service = fields.String(required=True, metadata={"example": "passport"})


class NewKioskBody(Schema):
    """Body of ``POST /admin/kiosks``: the code of the centre the new kiosk stands in (D-5)."""
    centre = fields.String(required=True, metadata={"example": "baku-1"})


class TicketResponse(Schema):
    """A printed ticket (Q-7) as the kiosk receives it: its number and series, the
    service and centre (code, ``az``, ``en``), the Baku day, the booked time (``HH:MM``,
    null for a walk-in), when it was issued, and the text to print."""
    ticket_id = fields.UUID()
    number = fields.String(metadata={"example": "B-017"})
    series = fields.String(metadata={"description": "booked or walk_in"})
    service = fields.Dict()
    centre = fields.Dict()
    date = fields.Date()
    booked_time = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    print = fields.Dict(metadata={"description": "ready-to-print text for 32- and 48-column "
                                                 "thermal printers, keyed by width"})


class KioskCredential(Schema):
    """A kiosk's credential (D-5), as registering or rotating it answers; the token
    is shown only this once (only its SHA-256 is kept)."""
    kiosk_id = fields.String()
    centre = fields.String()
    token = fields.String(metadata={"description": "shown once: Bearer <kiosk id>.<secret>"})


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
