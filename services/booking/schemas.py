"""HTTP schemas of the booking service (marshmallow): what the form must hold.

Field-by-field rules live in ``domain``; these schemas apply them so that a refusal
lists every wrong field at once (Q-5).
"""
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from shared.email_address import EmailAddress
from shared.errors import Text

from . import domain

REQUIRED = {"required": "Missing data for required field.", "null": "Field may not be null."}


class _Name(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = domain.normalize_name(super()._deserialize(value, attr, data, **kwargs))
        problem = domain.name_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class _IdCard(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = domain.normalize_id_card(super()._deserialize(value, attr, data, **kwargs))
        problem = domain.id_card_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class _Phone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        phone = domain.normalize_phone(super()._deserialize(value, attr, data, **kwargs))
        if phone is None:
            raise ValidationError(domain.PHONE_PROBLEM)
        return phone


SELF_SERVICE_CHANNELS = ("web", "api")


class BookingRequestSchema(Schema):
    """The annex form. Every field is required."""
    name = _Name(required=True, metadata={"description": "Ad", "example": "Leyla"})
    surname = _Name(required=True, metadata={"description": "Soyad", "example": "Məmmədova"})
    patronymic = _Name(required=True,
                       metadata={"description": "Ata adı", "example": "Əli qızı"})
    id_card = _IdCard(required=True, metadata={
        "description": "Ş/V seriyası və nömrəsi: AZE + 8 digits or AA + 7 digits",
        "example": "AZE12345678"})
    phone = _Phone(required=True, metadata={"description": "Telefon", "example": "+994501234567"})
    email = EmailAddress(required=True, metadata={
        "description": "E-poçt; before the @ only Latin letters, digits and . _ - + (the domain"
        " may be written in Azerbaijani letters, e.g. bakı.az)", "example": "leyla@example.az"})
    service = fields.String(required=True, metadata={"description": "Xidmətin adı (code)",
                                                     "example": "passport"})
    centre = fields.String(required=True, metadata={"description": "Xidmətin Mərkəzi (code)",
                                                    "example": "baku-1"})
    date = fields.Date(required=True, metadata={"description": "Tarix", "example": "2026-12-01"})
    time = fields.Time(required=True, format="%H:%M",
                       metadata={"description": "Saat", "example": "10:15"})
    language = fields.String(load_default="az", validate=validate.OneOf(("az", "en")))
    channel = fields.String(load_default="api", validate=validate.OneOf(SELF_SERVICE_CHANNELS),
                            metadata={"description": "where the form was filled in: the "
                                      "citizen pages send `web`; counted by monitoring (M-1)"})

    @post_load
    def split(self, data, **_):
        applicant = domain.Applicant(data["name"], data["surname"], data["patronymic"],
                                     data["id_card"], data["phone"], data["email"])
        visit = domain.Visit(data["centre"], data["service"], data["date"], data["time"])
        return {"applicant": applicant, "visit": visit, "language": data["language"],
                "channel": data["channel"]}


class ConfirmSchema(Schema):
    code = fields.String(required=True,
                         metadata={"description": "Təsdiqedici şifrə (6 digits, from the email)",
                                   "example": "042517"})

    @validates("code")
    def six_digits(self, value, **_):
        if not (len(value.strip()) == 6 and value.strip().isdigit()):
            raise ValidationError(Text("code_format", "Təsdiqedici şifrə 6 rəqəmdən ibarətdir.",
                                       "The confirmation code is 6 digits."))


class OrderCodeSchema(Schema):
    order_code = fields.String(required=True, validate=validate.Length(min=4, max=20),
                               metadata={"description": "Sifariş kodu, e.g. K7M2-QX4P"})

    @validates("order_code")
    def readable(self, value, **_):
        if not domain.normalize_order_code(value).isalnum():
            raise ValidationError(Text("order_code_format", "Sifariş kodu düzgün deyil.",
                                       "Not a valid order code."))


class SlotQuerySchema(Schema):
    date = fields.Date(required=True)


class OperatorSearchSchema(Schema):
    """Q-9: the call centre finds a booking by any one of these."""
    booking_id = fields.UUID()
    id_card = fields.String()
    email = fields.String()
    phone = fields.String()
    order_code = fields.String()


# --- responses (documented in OpenAPI) -------------------------------------------
class BookingRequestedResponse(Schema):
    booking_id = fields.UUID()
    status = fields.String()
    hold_expires_at = fields.DateTime()
    message = fields.Dict()


class BookingStatusResponse(Schema):
    booking_id = fields.UUID()
    status = fields.String()
    centre = fields.String()
    service = fields.String()
    date = fields.Date()
    time = fields.String()
    message = fields.Dict()


class FreeSlot(Schema):
    time = fields.String()
    free = fields.Integer()
    capacity = fields.Integer()
