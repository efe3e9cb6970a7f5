"""The event types of the kiosk gateway (its public contract). Never an order code,
never a credential: a kiosk's events carry the SHA-256 of its secret (what the
``kiosks`` read model checks a token against, D-1) only in their stored form, which
stays in the service's database; their public form is ``KioskData``.

Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve`` and
the projection read."""
from marshmallow import Schema, fields, validate

from shared.vocabulary.catalog import EventCatalog


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


# --- counters and calling tickets (issue 17 §1) -----------------------------------

class CounterData(Schema):
    """A counter (a staff desk) of a centre: its id and the name the display board
    shows (``"5"``, ``"Masa 5"``). The whole of ``CounterRevoked``, and the public form
    of ``CounterRegistered`` and ``CounterCredentialRotated``. Never who works there."""
    counter_id = fields.String(required=True)
    centre = fields.String(required=True)
    name = fields.String(required=True)


class CounterCredentialData(CounterData):
    """Stored form of CounterRegistered / CounterCredentialRotated: ``credential_hash``,
    hex SHA-256 of the counter's secret (shown once, never stored)."""
    credential_hash = fields.String(required=True)


class CounterSignedInData(CounterData):
    """Staff signed in at the counter ``at``, for ``services`` (service codes, ≥ 1)."""
    services = fields.List(fields.String(), required=True)
    at = fields.AwareDateTime(required=True)


class CounterSignedOutData(CounterData):
    """Staff signed out of the counter ``at``: it calls nobody until the next sign-in."""
    at = fields.AwareDateTime(required=True)


class _TicketRef(Schema):
    ticket_id = fields.UUID(required=True)
    centre = fields.String(required=True)
    date = fields.Date(required=True)
    number = fields.String(required=True)
    counter_id = fields.String(required=True)


class TicketCalledData(_TicketRef):
    """A counter called the ticket for ``service``. Waiting time (M-2) is ``called_at``
    − ``issued_at`` of the ticket's first call (``first_call``; false when it is called
    again after a transfer)."""
    service = fields.String(required=True)
    series = fields.String(required=True, validate=validate.OneOf(("booked", "walk_in")))
    counter_name = fields.String(required=True)
    issued_at = fields.AwareDateTime(required=True)
    called_at = fields.AwareDateTime(required=True)
    first_call = fields.Boolean(required=True)


class TicketRecalledData(_TicketRef):
    """The counter called the ticket again: ``recalls`` times now."""
    service = fields.String(required=True)
    counter_name = fields.String(required=True)
    recalls = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)


class TicketNoShowData(_TicketRef):
    """Nobody came after ``recalls`` recalls: the ticket is closed unserved."""
    service = fields.String(required=True)
    recalls = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)


class TicketTransferredData(_TicketRef):
    """The ticket waits again, in ``to_service``'s queue, keeping its place (its
    booked time or arrival)."""
    from_service = fields.String(required=True)
    to_service = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class TicketServedData(_TicketRef):
    """The visitor was served for ``service``: service time (M-2) is ``served_at`` −
    ``called_at``."""
    service = fields.String(required=True)
    called_at = fields.AwareDateTime(required=True)
    served_at = fields.AwareDateTime(required=True)


CATALOG = EventCatalog("kiosk_gateway")
KioskRegistered = CATALOG.register("KioskRegistered", KioskCredentialData, public=KioskData).event
KioskCredentialRotated = CATALOG.register("KioskCredentialRotated", KioskCredentialData,
                                          public=KioskData).event
KioskRevoked = CATALOG.register("KioskRevoked", KioskData).event
TicketIssued = CATALOG.register("TicketIssued", TicketIssuedData).event
ActivationRefused = CATALOG.register("ActivationRefused", ActivationRefusedStored,
                                     public=ActivationRefusedData).event
CounterRegistered = CATALOG.register("CounterRegistered", CounterCredentialData,
                                     public=CounterData).event
CounterCredentialRotated = CATALOG.register("CounterCredentialRotated", CounterCredentialData,
                                            public=CounterData).event
CounterRevoked = CATALOG.register("CounterRevoked", CounterData).event
CounterSignedIn = CATALOG.register("CounterSignedIn", CounterSignedInData).event
CounterSignedOut = CATALOG.register("CounterSignedOut", CounterSignedOutData).event
TicketCalled = CATALOG.register("TicketCalled", TicketCalledData).event
TicketRecalled = CATALOG.register("TicketRecalled", TicketRecalledData).event
TicketNoShow = CATALOG.register("TicketNoShow", TicketNoShowData).event
TicketTransferred = CATALOG.register("TicketTransferred", TicketTransferredData).event
TicketServed = CATALOG.register("TicketServed", TicketServedData).event
