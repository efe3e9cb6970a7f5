"""The event types of the kiosk gateway (its public contract). Never an order code,
never a credential: a kiosk's events carry the SHA-256 of its secret (what the
``kiosks`` read model checks a token against, D-1) only in their stored form, which
stays in the service's database; their public form is ``KioskData``."""
from marshmallow import Schema, fields, validate

from shared.catalog import EventCatalog


class KioskData(Schema):
    """D-5: which kiosk, of which centre. The whole of ``KioskRevoked``, and the
    public form of ``KioskRegistered`` and ``KioskCredentialRotated``."""
    kiosk_id = fields.String(required=True)
    centre = fields.String(required=True)


class KioskCredentialData(KioskData):
    """Stored form of KioskRegistered / KioskCredentialRotated. ``credential_hash``:
    hex SHA-256 of the secret (the secret itself is shown once and never stored);
    absent from events written before issue 16."""
    credential_hash = fields.String()


class TicketIssuedData(Schema):
    """Q-7: a ticket was printed. ``number`` (``B-017``; ``sequence`` 17) is gap-free
    in its centre's ``series`` (``booked`` or ``walk_in``) for the Baku ``date``;
    ``booking_id`` and ``booked_time`` (``HH:MM``) are null for a walk-in."""
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
    """Q-7, Q-8: a kiosk's activation was refused at ``at``, and why: ``invalid``
    (an unknown, used or cancelled code), ``other_centre``, ``too_early``, ``lapsed``
    or ``throttled``. Never the order code itself."""
    reason = fields.String(required=True, validate=validate.OneOf(
        ("invalid", "other_centre", "too_early", "lapsed", "throttled")))
    at = fields.AwareDateTime(required=True)


class ActivationRefusedStored(ActivationRefusedData):
    """Stored form: ``blocked_until``, when this wrong code slowed the kiosk down
    (null: it did not; absent before issue 16). Depends on the configured policy,
    so the event carries it and the projection does not recompute it."""
    blocked_until = fields.AwareDateTime(allow_none=True)


CATALOG = EventCatalog("kiosk_gateway")
CATALOG.register("KioskRegistered", KioskCredentialData, public=KioskData)
CATALOG.register("KioskCredentialRotated", KioskCredentialData, public=KioskData)
CATALOG.register("KioskRevoked", KioskData)
CATALOG.register("TicketIssued", TicketIssuedData)
CATALOG.register("ActivationRefused", ActivationRefusedStored, public=ActivationRefusedData)
