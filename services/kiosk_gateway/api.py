"""The kiosk gateway's HTTP API, described once: routes for OpenAPI."""

from shared.edge.openapi import Route, build_spec

from .schemas import (Board, CounterCredential, CounterView, KioskCredential, NewCounterBody,
                      NewKioskBody, OrderCodeBody, SignInBody, TicketResponse, TransferBody,
                      WalkInBody)

_CURRENT = {409: ("no_current_ticket",)}

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
    # counters: staff desks that call tickets, with their own token
    Route("GET", "/counter", "The counter: services signed in for, its called ticket, who waits",
          response=CounterView, security=True, tags=("counter",)),
    Route("POST", "/counter/sign-in", "Staff sign in at the counter for one or more services",
          request=SignInBody, response=CounterView, security=True, command=True,
          tags=("counter",), errors={400: ("validation_failed",), 404: ("not_offered",),
                                  409: ("revoked",)}),
    Route("POST", "/counter/sign-out", "Staff sign out of the counter", response=CounterView,
          security=True, command=True, tags=("counter",),
          errors={409: ("ticket_in_progress",)}),
    Route("POST", "/counter/call-next", "Call the next ticket of the counter's services: booked "
          "visitors at their time ahead of walk-ins, then by arrival", response=CounterView,
          security=True, command=True, once=True, tags=("counter",),
          errors={404: ("nobody_waiting",), 409: ("not_signed_in", "ticket_in_progress")}),
    Route("POST", "/counter/recall", "Call the counter's ticket again", response=CounterView,
          security=True, command=True, once=True, tags=("counter",),
          errors={409: ("no_current_ticket", "recalls_exhausted")}),
    Route("POST", "/counter/no-show", "Nobody came after the recalls: close the ticket unserved",
          response=CounterView, security=True, command=True, once=True, tags=("counter",),
          errors={409: ("no_current_ticket", "recall_first")}),
    Route("POST", "/counter/transfer", "The ticket joins another service's queue at its place",
          request=TransferBody, response=CounterView, security=True, command=True, once=True,
          tags=("counter",), errors={400: ("validation_failed",), 404: ("not_offered",),
                                     409: ("no_current_ticket", "same_service")}),
    Route("POST", "/counter/served", "The visitor was served", response=CounterView,
          security=True, command=True, once=True, tags=("counter",), errors=_CURRENT),
    Route("GET", "/centres/{centre}/board", "A centre's display board: the last calls today "
          "(ticket numbers and counter names only)", response=Board, tags=("board",),
          errors={404: ("unknown_centre",)}),
    Route("POST", "/admin/counters", "Register a counter of a centre; its credential is shown "
          "once", request=NewCounterBody, response=CounterCredential, status=201,
          security=True, command=True, once=True, tags=("admin",),
          errors={400: ("validation_failed",), 404: ("unknown_centre",),
                  409: ("name_taken",)}),
    Route("POST", "/admin/counters/{counter_id}/rotate", "A new credential; the old one stops "
          "working", response=CounterCredential, security=True, command=True, tags=("admin",),
          errors={404: ("unknown_counter",), 409: ("revoked",)}),
    Route("POST", "/admin/counters/{counter_id}/revoke", "The counter is refused from now on; "
          "its called ticket waits again", security=True, command=True, tags=("admin",),
          errors={404: ("unknown_counter",)}),
    Route("GET", "/admin/counters", "Counters, their names, status and services", security=True,
          tags=("admin",)),
]


def spec():
    """The gateway's OpenAPI 3.0.3 document (a ``dict``), served at ``GET /openapi.json``."""
    return build_spec("ASAN xidmət — kiosk gateway", "1.0.0",
                      "The only door for the queue machines at the centres (D-5).", ROUTES)
