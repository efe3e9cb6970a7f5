"""HTTP schemas of the booking service (marshmallow): what the form must hold.

Field-by-field rules live in ``domain``; these schemas apply them so that a refusal
lists every wrong field at once (Q-5). Identifiers, dates and codes are read by the
platform's fields (``shared.vocabulary.fields``) into their one canonical form.
"""
from marshmallow import Schema, fields, post_load, validate

from shared.vocabulary import fields as asan
from shared.vocabulary.names import Name

from . import domain
from .events import CLOSURE_REASONS

SELF_SERVICE_CHANNELS = ("web", "api")


class BookingRequestSchema(Schema):
    """The annex form. Every field is required."""
    name = Name(required=True, metadata={"description": "Ad", "example": "Leyla"})
    surname = Name(required=True, metadata={"description": "Soyad", "example": "Məmmədova"})
    patronymic = Name(required=True,
                      metadata={"description": "Ata adı", "example": "Əli qızı"})
    id_card = asan.IdCard(required=True, metadata={
        "description": "Ş/V seriyası və nömrəsi: AZE + 8 digits or AA + 7 digits",
        "example": "AZE12345678"})
    phone = asan.Phone(required=True,
                       metadata={"description": "Telefon", "example": "+994501234567"})
    email = asan.EmailAddress(required=True, metadata={
        "description": "E-poçt; before the @ only Latin letters, digits and . _ - + (the domain"
        " may be written in Azerbaijani letters, e.g. bakı.az)", "example": "leyla@example.az"})
    service = fields.String(required=True, metadata={"description": "Xidmətin adı (code)",
                                                     "example": "passport"})
    centre = fields.String(required=True, metadata={"description": "Xidmətin Mərkəzi (code)",
                                                    "example": "baku-1"})
    date = asan.Date(required=True, metadata={"description": "Tarix", "example": "2026-12-01"})
    time = fields.Time(required=True, format="%H:%M",
                       metadata={"description": "Saat", "example": "10:15"})
    language = fields.String(load_default="az", validate=validate.OneOf(("az", "en")))
    channel = fields.String(load_default="api", validate=validate.OneOf(SELF_SERVICE_CHANNELS),
                            metadata={"description": "where the form was filled in: the "
                                      "citizen pages send `web`; counted by monitoring (M-1)"})

    @post_load
    def split(self, data, **_):
        """The loaded form as :class:`domain.Applicant` and :class:`domain.Visit`."""
        applicant = domain.Applicant(data["name"], data["surname"], data["patronymic"],
                                     data["id_card"], data["phone"], data["email"])
        visit = domain.Visit(data["centre"], data["service"], data["date"], data["time"])
        return {"applicant": applicant, "visit": visit, "language": data["language"],
                "channel": data["channel"]}


class ConfirmSchema(Schema):
    """``POST /bookings/{id}/confirm``: the six-digit code from the email (Q-3)."""
    code = asan.ConfirmationCode(required=True, metadata={
        "description": "Təsdiqedici şifrə (6 digits, from the email)", "example": "042517"})


class OrderCodeSchema(Schema):
    """``POST /bookings/cancel``: the order code (Q-8)."""
    order_code = asan.OrderCode(required=True,
                                metadata={"description": "Sifariş kodu, e.g. K7M2-QX4P"})


class RescheduleSchema(Schema):
    """``POST /bookings/reschedule`` (issue 17 §5): the order code and the new day and
    time (the centre and service stay)."""
    order_code = asan.OrderCode(required=True,
                                metadata={"description": "Sifariş kodu, e.g. K7M2-QX4P"})
    date = asan.Date(required=True, metadata={"description": "Yeni tarix",
                                              "example": "2026-12-01"})
    time = fields.Time(required=True, format="%H:%M",
                       metadata={"description": "Yeni saat", "example": "10:15"})


class ResendOrderCodeSchema(Schema):
    """``POST /bookings/order-code`` (issue 17 §5): what names a booking whose order
    code was lost — the ID card, the email it was booked with and the day of the
    visit."""
    id_card = asan.IdCard(required=True, metadata={
        "description": "Ş/V seriyası və nömrəsi: AZE + 8 digits or AA + 7 digits",
        "example": "AZE12345678"})
    email = asan.EmailAddress(required=True, metadata={"description": "E-poçt",
                                                       "example": "leyla@example.az"})
    date = asan.Date(required=True, metadata={"description": "Növbənin tarixi",
                                              "example": "2026-12-01"})


class SlotQuerySchema(Schema):
    """``GET …/slots``: the day asked about."""
    date = asan.Date(required=True)


class OperatorSearchSchema(Schema):
    """Q-9: the call centre finds a booking by any one of these."""
    booking_id = fields.UUID()
    id_card = asan.IdCard()
    email = fields.String()
    phone = asan.Phone()
    order_code = asan.OrderCode()


class ClosureSchema(Schema):
    """``POST /admin/closures`` (issue 17 §6): close a centre, or one service at it, for
    a day, for one of the reasons. No examples in the document: a generated test
    request made of them (tests/e2e/test_api_properties.py) would really close a
    centre's day on the test stack."""
    centre = fields.String(required=True, validate=validate.Length(max=64),
                           metadata={"description": "the centre's code (GET /centres)"})
    service = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=64), metadata={
                                "description": "a service's code; null or absent: the whole "
                                "centre"})
    date = asan.Date(required=True, metadata={"description": "the day closed (Baku)"})
    reason = fields.String(required=True, validate=validate.OneOf(CLOSURE_REASONS),
                           metadata={"description": "why: " + ", ".join(CLOSURE_REASONS)})

    @post_load
    def closure(self, data, **_):
        """The loaded body as :class:`domain.Closure`."""
        return domain.Closure(data["centre"], data["service"], data["date"], data["reason"])


# --- responses (documented in OpenAPI) -------------------------------------------
class BookingRequestedResponse(Schema):
    """The 202 answer of ``POST /bookings``: the booking id, its status and when the hold
    ends."""
    booking_id = fields.UUID()
    status = fields.String()
    hold_expires_at = fields.DateTime()
    message = fields.Dict()


class BookingStatusResponse(Schema):
    """The answer of confirm, cancel: the booking's id, status and visit."""
    booking_id = fields.UUID()
    status = fields.String()
    centre = fields.String()
    service = fields.String()
    date = fields.Date()
    time = fields.String()
    message = fields.Dict()


class VisitToMoveResponse(Schema):
    """``POST /bookings/visit`` (issue 17 §5): the centre, service, day and time of
    the booking an order code names — nothing personal."""
    centre = fields.String()
    service = fields.String()
    date = fields.Date()
    time = fields.String(metadata={"example": "10:15"})


class AcceptedResponse(Schema):
    """A 202 that only says what happens next (``POST /bookings/order-code``)."""
    message = fields.Dict()


class FreeSlot(Schema):
    """One slot of ``GET …/slots``: its time, free places and capacity."""
    time = fields.String()
    free = fields.Integer()
    capacity = fields.Integer()


class ClosureResponse(Schema):
    """The 201 answer of ``POST /admin/closures``: the closure and how many bookings of
    that day it cancelled."""
    closure_id = fields.UUID()
    centre = fields.String()
    service = fields.String(allow_none=True)
    date = fields.Date()
    reason = fields.String()
    closed_at = fields.DateTime()
    cancelled = fields.Integer()
