"""The booking service's HTTP API, described once: routes for OpenAPI."""
from shared.edge.openapi import UUID_PARAM, Route, build_spec

from . import schemas

ROUTES = [
    Route("GET", "/centres", "ASAN service centres, their hours and services", tags=("reference",)),
    Route("GET", "/services", "Services that can be booked", tags=("reference",)),
    Route("GET", "/centres/{centre}/services/{service}/slots", "Free times of a day",
          query=schemas.SlotQuerySchema, response=schemas.FreeSlot, many=True,
          errors={400: ("validation_failed",), 404: ("unknown",)}, tags=("reference",)),
    Route("POST", "/bookings", "Fill the form; a confirmation code is emailed (Q-1, Q-2, Q-5)",
          request=schemas.BookingRequestSchema, response=schemas.BookingRequestedResponse,
          status=202, command=True, once=True, tags=("booking",), errors={
              400: ("validation_failed",), 409: ("slot_full", "already_booked", "day_limit",
                                              "centre_closed", "already_exists"),
              429: ("too_many_requests",)},
          description="429: too many requests from this client (reason "
                      "`slow_down`), or too many unconfirmed bookings at once from its "
                      "address, for the email or for the phone (reasons "
                      "`too_many_holds_address`, `too_many_holds_email`, "
                      "`too_many_holds_phone`): wait `Retry-After` seconds, or confirm one "
                      "of them with its emailed code. 409 `centre_closed`: "
                      "staff closed the centre, or this service at it, that day."),
    Route("POST", "/bookings/{booking_id}/confirm",
          "Send the emailed code; the order code is emailed at once (Q-3, Q-4, Q-6)",
          request=schemas.ConfirmSchema, response=schemas.BookingStatusResponse, command=True,
          params={"booking_id": UUID_PARAM}, tags=("booking",), errors={
              400: ("validation_failed",), 404: ("no_booking", "not_found"),
              409: ("already_confirmed", "not_pending"), 422: ("code_refused",),
              429: ("too_many_requests",)}),
    Route("POST", "/bookings/cancel", "Cancel a booking with its order code",
          request=schemas.OrderCodeSchema, response=schemas.BookingStatusResponse, command=True,
          tags=("booking",), errors={400: ("validation_failed",), 404: ("no_active_booking",),
                                     409: ("visit_started",), 429: ("too_many_requests",)}),
    Route("POST", "/bookings/reschedule",
          "Move a booking to another day and time with its order code",
          request=schemas.RescheduleSchema, response=schemas.BookingStatusResponse,
          command=True, tags=("booking",), errors={
              400: ("validation_failed",), 404: ("no_active_booking",),
              409: ("visit_started", "same_time", "slot_full", "already_booked",
                    "day_limit", "centre_closed"),
              429: ("too_many_requests",)},
          description="The same rules as a new booking (Q-1: a day ahead, Baku time; the "
                      "horizon; a working day and a slot of the service; a free place; one "
                      "booking per ID card, service and day; at most a family's bookings of "
                      "the service at the centre that day from the address the booking was "
                      "made from, 409 `day_limit`; not a day staff closed: 409 "
                      "`centre_closed`), the booking moved counted out; no cap on "
                      "unconfirmed holds (a move takes none). The old place is given back "
                      "and the new one taken at once; one email with the new time; the "
                      "order code stays the same."),
    Route("POST", "/bookings/visit",
          "The centre, service, day and time of a booking, before moving it",
          request=schemas.OrderCodeSchema, response=schemas.VisitToMoveResponse,
          tags=("booking",), errors={400: ("validation_failed",), 404: ("no_active_booking",),
                                     409: ("visit_started",), 429: ("too_many_requests",)},
          description="Read only: what the citizen pages need to show the free times of "
                      "another day at the booking's centre for its service (the order code "
                      "in the body, never in a URL). Nothing personal is answered; refused "
                      "as `POST /bookings/reschedule` refuses an order code (404 "
                      "`no_active_booking`, no hint which codes exist; 409 `visit_started`) "
                      "and limited per client like it."),
    Route("POST", "/bookings/order-code",
          "A lost order code: a new one is emailed to the booking's address",
          request=schemas.ResendOrderCodeSchema, response=schemas.AcceptedResponse,
          status=202, once=True, tags=("booking",), errors={
              400: ("validation_failed",), 429: ("too_many_requests",)},
          description="The booking is named by the ID card, the email it was booked with "
                      "and the day of the visit. The answer is the same whether a confirmed "
                      "booking matched or not; when one did, it gets a NEW order code (only "
                      "hashes are kept) sent to its own address, and the previous code stops "
                      "working. At most a few new codes a day per booking. The same ask "
                      "again within a minute (a double submit) gets the first answer and "
                      "sends nothing more. A new code that lost its races is answered "
                      "alike (nothing sent; no 409 `busy` that would tell a booking "
                      "matched)."),
    Route("POST", "/admin/closures",
          "Staff: close a centre, or one service at it, for a day",
          request=schemas.ClosureSchema, response=schemas.ClosureResponse, status=201,
          command=True, once=True, security=True, tags=("closures",),
          errors={400: ("validation_failed",), 409: ("already_closed",)},
          description="No new bookings that day (409 `centre_closed`, no free slots); every "
                      "booking of that day held or confirmed is cancelled in the same "
                      "transaction (`BookingCancelled` by `closure`), its place freed, and its "
                      "citizen emailed why with a link to book again; then `CentreClosed`. "
                      "Today can be closed until the centre's closing time (an emergency: "
                      "the bookings not yet activated are cancelled). 400 (reasons): "
                      "`unknown_centre`, `unknown_service`, `not_offered`, `day_over` (a past "
                      "day, or today after closing), `not_open`, `beyond_horizon` (over a "
                      "year ahead). 409 `already_closed`: what it closes is closed already."),
    Route("POST", "/operator/bookings/search", "Call centre: find bookings (Q-9)",
          request=schemas.OperatorSearchSchema, errors={400: ("validation_failed",)},
          security=True, tags=("operator",)),
    Route("GET", "/operator/bookings/{booking_id}", "Call centre: a booking and its history (Q-9)",
          errors={404: ("no_booking", "not_found")}, params={"booking_id": UUID_PARAM},
          security=True, tags=("operator",)),
]


def spec():
    """The OpenAPI 3 document of the booking API (served at ``GET /openapi.json``)."""
    return build_spec("ASAN xidmət — online queue booking", "1.0.0",
                      "Q-1…Q-10: book a place in the queue of an ASAN service centre. "
                      "Errors: one format, reasons in Azerbaijani and English.", ROUTES)
