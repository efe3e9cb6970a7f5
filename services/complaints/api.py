"""The complaints service's HTTP API, described once: routes for OpenAPI (the schemas
are in ``schemas.py``)."""

from shared.edge.openapi import UUID_PARAM, Route, build_spec

from .schemas import (ComplaintBody, PaperComplaintBody, WithdrawBody,
                      AssignBody, AnswerBody, ListQuery)

ROUTES = [
    Route("POST", "/complaints", "File a complaint electronically (C-1, C-2)",
          request=ComplaintBody, status=201, command=True, once=True, tags=("citizen",),
          errors={400: ("validation_failed",), 429: ("too_many_requests",)},
          description="Names: letters of the Azerbaijani alphabet, 2 to 60 (the booking "
                      "form's rule). 429: too many complaints from this client, "
                      "or for this email address (reason `slow_down`, field `email`): wait "
                      "`Retry-After` seconds."),
    Route("POST", "/complaints/withdraw", "Withdraw a complaint by its reference number",
          request=WithdrawBody, command=True, tags=("citizen",),
          errors={400: ("validation_failed",), 404: ("no_complaint",), 409: ("closed",),
                  429: ("too_many_requests",)}),
    Route("POST", "/staff/complaints", "Register a paper complaint (C-4)",
          request=PaperComplaintBody, status=201, security=True, command=True, once=True,
          tags=("staff",), errors={400: ("validation_failed",)}),
    Route("GET", "/staff/complaints", "List and filter complaints", query=ListQuery,
          errors={400: ("validation_failed",)}, security=True, tags=("staff",)),
    Route("GET", "/staff/complaints/{complaint_id}", "A complaint's full history",
          errors={404: ("no_complaint", "not_found")}, params={"complaint_id": UUID_PARAM},
          security=True, tags=("staff",)),
    Route("POST", "/staff/complaints/{complaint_id}/assign", "Assign a reviewer",
          request=AssignBody, security=True, command=True, tags=("staff",),
          params={"complaint_id": UUID_PARAM}, errors={
              400: ("validation_failed",), 404: ("no_complaint", "not_found"), 409: ("closed",)}),
    Route("POST", "/staff/complaints/{complaint_id}/answer", "Answer: resolved or rejected",
          request=AnswerBody, security=True, command=True, tags=("staff",),
          params={"complaint_id": UUID_PARAM}, errors={
              400: ("validation_failed",), 404: ("no_complaint", "not_found"), 409: ("closed",)}),
]


def spec():
    """The OpenAPI 3 document of the complaints API."""
    return build_spec("ASAN xidmət and Ministry of Justice — complaints", "1.0.0",
                      "Complaints about the queue booking and the FIN lookup, reviewed within "
                      "one month (C-3).", ROUTES)
