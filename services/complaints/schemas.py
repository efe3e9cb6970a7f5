"""The complaints API's request bodies and queries (marshmallow): what a complainant
or staff member sends (C-1, C-2, C-4)."""

from marshmallow import Schema, fields, validate

from shared.vocabulary import fields as asan
from shared.vocabulary.names import Name

from .events import SERVICES

# Lengths a real address, workplace or reference fits in with room to spare; nothing
# longer is stored (an email address has at most 254 characters, RFC 5321).
MAX_ADDRESS, MAX_WORKPLACE, MAX_EMAIL, MAX_REFERENCE = 300, 200, 254, 100


class ComplaintBody(Schema):
    """C-1, C-2. Identity fields are checked together, so every missing one is named.
    Names follow the booking form's rule (shared.vocabulary.names: letters only, at most 60): they
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
