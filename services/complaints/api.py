"""The complaints service's HTTP API: request schemas (used to validate) and routes."""
from marshmallow import Schema, fields, validate

from shared import fields as asan
from shared.names import Name
from shared.openapi import UUID_PARAM, Route, build_spec

from .domain import SERVICES

# Lengths a real address, workplace or reference fits in with room to spare; nothing
# longer is stored (an email address has at most 254 characters, RFC 5321).
MAX_ADDRESS, MAX_WORKPLACE, MAX_EMAIL, MAX_REFERENCE = 300, 200, 254, 100


class ComplaintBody(Schema):
    """C-1, C-2. Identity fields are checked together, so every missing one is named.
    Names follow the booking form's rule (shared.names: letters only, at most 60): they
    are the only thing typed here that an email repeats (issue 12)."""
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    text = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    booking_id = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=MAX_REFERENCE))
    name = Name(load_default=None, allow_none=True, blank_is_none=True)
    patronymic = Name(load_default=None, allow_none=True, blank_is_none=True)
    surname = Name(load_default=None, allow_none=True, blank_is_none=True)
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_ADDRESS))
    email = asan.EmailAddress(load_default=None, allow_none=True,
                         validate=validate.Length(max=MAX_EMAIL))
    postal_address = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=MAX_ADDRESS))
    workplace = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=MAX_WORKPLACE))
    language = fields.String(load_default="az", validate=validate.OneOf(("az", "en")))


class PaperComplaintBody(ComplaintBody):
    """C-4: registered by staff from a letter."""
    received_on = asan.Date(required=True, not_in_future=True, metadata={
        "description": "the day the letter arrived; the one-month deadline counts from it"})
    scan_reference = fields.String(required=True, validate=validate.Length(min=1, max=200))


class WithdrawBody(Schema):
    """``POST /complaints/withdraw``: the complaint's reference number."""
    reference = fields.String(required=True, validate=validate.Length(max=MAX_REFERENCE))


class AssignBody(Schema):
    """Staff assign a complaint to a reviewer."""
    reviewer = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AnswerBody(Schema):
    """Staff answer a complaint: the decision and the answer's text (C-3)."""
    decision = fields.String(required=True, validate=validate.OneOf(("resolved", "rejected")))
    answer = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class ListQuery(Schema):
    """The staff list's filters: status, service."""
    status = fields.String()
    service = fields.String()
    reviewer = fields.String()
    overdue = fields.Boolean()


ROUTES = [
    Route("POST", "/complaints", "File a complaint electronically (C-1, C-2)",
          request=ComplaintBody, status=201, command=True, once=True, tags=("citizen",),
          errors={400: ("validation_failed",), 429: ("too_many_requests",)},
          description="Names: letters of the Azerbaijani alphabet, 2 to 60 (the booking "
                      "form's rule). 429 (issue 12): too many complaints from this client, "
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
