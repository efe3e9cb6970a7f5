"""The event types of the kiosk gateway (its public contract). Never an order code,
never a credential."""
from marshmallow import Schema, fields, validate

from shared.catalog import EventCatalog


class KioskData(Schema):
    kiosk_id = fields.String(required=True)
    centre = fields.String(required=True)


class TicketIssuedData(Schema):
    ticket_id = fields.UUID(required=True)
    centre = fields.String(required=True)
    date = fields.Date(required=True)
    number = fields.String(required=True, metadata={"example": "B-017"})
    sequence = fields.Integer(required=True)
    series = fields.String(required=True, validate=validate.OneOf(("booked", "walk_in")))
    service = fields.String(required=True)
    booking_id = fields.UUID(allow_none=True)
    booked_time = fields.String(allow_none=True)
    kiosk_id = fields.String(required=True)
    issued_at = fields.AwareDateTime(required=True)


class ActivationRefusedData(KioskData):
    reason = fields.String(required=True, validate=validate.OneOf(
        ("invalid", "other_centre", "too_early", "lapsed", "throttled")))
    at = fields.AwareDateTime(required=True)


CATALOG = EventCatalog("kiosk_gateway")
CATALOG.register("KioskRegistered", KioskData)
CATALOG.register("KioskCredentialRotated", KioskData)
CATALOG.register("KioskRevoked", KioskData)
CATALOG.register("TicketIssued", TicketIssuedData)
CATALOG.register("ActivationRefused", ActivationRefusedData)
