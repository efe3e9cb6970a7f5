"""The event types of the booking service and their schemas (its public contract).

The full schema is what the booking service stores; the public schema is what other
systems read on ``booking.events``: never a code (not even hashed), an ID card
number, a name, an email or a phone number (non-negotiable 5).

Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve`` and
the projection read.
"""
from marshmallow import Schema, fields, validate

from shared.vocabulary.email_request import EmailRequestedData
from shared.vocabulary.catalog import EventCatalog

CHANNELS = ("web", "api", "call_centre")
# Why staff closed a centre's day (issue 17 §6): public codes; the emails' words for
# each are in domain.CLOSURE_REASONS.
CLOSURE_REASONS = ("technical_fault", "power_outage", "emergency", "public_event", "other")


class _BookingRef(Schema):
    booking_id = fields.UUID(required=True)


class _Slot(_BookingRef):
    centre = fields.String(required=True)
    service = fields.String(required=True)
    date = fields.Date(required=True)
    time = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{2}:[0-9]{2}$"))


class ApplicantData(Schema):
    """The applicant inside ``BookingRequested`` (personal data: never public)."""
    name = fields.String(required=True)
    surname = fields.String(required=True)
    patronymic = fields.String(required=True)
    id_card = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(required=True)


class BookingRequestedPublic(_Slot):
    """``BookingRequested`` as outside systems read it: the slot, channel and times, no
    personal data (D-3)."""
    language = fields.String(required=True, validate=validate.OneOf(("az", "en")))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    requested_at = fields.AwareDateTime(required=True)
    hold_expires_at = fields.AwareDateTime(required=True)


class BookingRequestedData(BookingRequestedPublic):
    """``BookingRequested`` as stored: the public part plus the code's hash, the applicant
    and the client address."""
    code_hash = fields.String(required=True)
    max_wrong_codes = fields.Integer(required=True)
    applicant = fields.Nested(ApplicantData, required=True)
    # Who asked (an IPv4 address or IPv6 /64, shared.edge.clients): unconfirmed holds are
    # capped per client address (issue 12). Private, like the applicant; absent in
    # events recorded before.
    client_address = fields.String(allow_none=True)


class CodeRejectedData(_BookingRef):
    """``CodeRejected``: a wrong confirmation code, and the tries left (Q-6)."""
    attempts_left = fields.Integer(required=True)


class BookingVoidedData(_BookingRef):
    """``BookingVoided``: the request is void (too many wrong codes, Q-6)."""
    reason = fields.String(required=True)


class HoldExpiredData(_BookingRef):
    """``HoldExpired``: the hold lapsed unconfirmed and its place is free (Q-2)."""
    expired_at = fields.AwareDateTime(required=True)


class CodeConfirmedPublic(_Slot):
    """``CodeConfirmed`` as outside systems read it: the slot and when."""
    confirmed_at = fields.AwareDateTime(required=True)


class CodeConfirmedData(CodeConfirmedPublic):
    """``CodeConfirmed`` as stored: plus the order code's hash (Q-4)."""
    order_code_hash = fields.String(required=True)


class BookingCancelledData(_BookingRef):
    """``BookingCancelled``: when, and by whom (the citizen, an operator, or a closure
    of its centre's day: then which, ``closure_id``, issue 17 §6)."""
    cancelled_at = fields.AwareDateTime(required=True)
    by = fields.String(required=True,
                       validate=validate.OneOf(("citizen", "operator", "closure")))
    closure_id = fields.UUID(allow_none=True, metadata={
        "description": "the CentreClosed that cancelled it (by closure); absent otherwise"})


class BookingActivatedData(_Slot):
    """``BookingActivated``: at a kiosk of the centre, when (Q-7)."""
    activated_at = fields.AwareDateTime(required=True)
    kiosk_id = fields.String(required=True)


class BookingLapsedData(_Slot):
    """``BookingLapsed``: not activated by its time plus grace (Q-8)."""
    lapsed_at = fields.AwareDateTime(required=True)


class BookingRescheduledData(_Slot):
    """``BookingRescheduled`` (issue 17 §5): the booking moved to this day and time
    (same centre and service), from the previous ones; its place moved with it."""
    previous_date = fields.Date(required=True)
    previous_time = fields.String(required=True,
                                  validate=validate.Regexp(r"^[0-9]{2}:[0-9]{2}$"))
    rescheduled_at = fields.AwareDateTime(required=True)


class BookingRemindedData(_Slot):
    """``BookingReminded`` (issue 17 §4): the reminder of the visit tomorrow was asked
    of the notification service (its email request is private), once per booking and
    day."""
    reminded_at = fields.AwareDateTime(required=True)


class OrderCodeReissuedPublic(_BookingRef):
    """``OrderCodeReissued`` as outside systems read it (issue 17 §5, "resend"): the
    booking got a new order code, emailed to its own address; the old one stopped
    working."""
    reissued_at = fields.AwareDateTime(required=True)


class OrderCodeReissuedData(OrderCodeReissuedPublic):
    """``OrderCodeReissued`` as stored: plus the new order code's hash (Q-4)."""
    order_code_hash = fields.String(required=True)


class RefusalReason(Schema):
    """One reason of a refused form: the field (or none) and the reason's code."""
    field = fields.String(allow_none=True)
    code = fields.String(required=True)


class BookingRefusedData(Schema):
    """A form refused (Q-5): which fields and why — never what was typed."""
    refusal_id = fields.UUID(required=True)
    channel = fields.String(required=True)
    refused_at = fields.AwareDateTime(metadata={"description": "absent in events before M-1"})
    centre = fields.String(allow_none=True)
    service = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(RefusalReason), required=True)


class CentreClosedData(Schema):
    """``CentreClosed`` (issue 17 §6): staff closed a centre (``service`` null) or one
    service at it for a day (Baku), for a reason; ``cancelled`` of that day's bookings
    were cancelled with it (each its ``BookingCancelled`` by closure). Stream
    ``closure-<centre>-<date>``."""
    closure_id = fields.UUID(required=True)
    centre = fields.String(required=True)
    service = fields.String(required=True, allow_none=True)
    date = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(CLOSURE_REASONS))
    closed_at = fields.AwareDateTime(required=True)
    cancelled = fields.Integer(required=True, validate=validate.Range(min=0))


CATALOG = EventCatalog("booking")
BookingRequested = CATALOG.register("BookingRequested", BookingRequestedData,
                                    public=BookingRequestedPublic).event
CodeRejected = CATALOG.register("CodeRejected", CodeRejectedData).event
BookingVoided = CATALOG.register("BookingVoided", BookingVoidedData).event
HoldExpired = CATALOG.register("HoldExpired", HoldExpiredData).event
CodeConfirmed = CATALOG.register("CodeConfirmed", CodeConfirmedData,
                                 public=CodeConfirmedPublic).event
BookingCancelled = CATALOG.register("BookingCancelled", BookingCancelledData).event
BookingRefused = CATALOG.register("BookingRefused", BookingRefusedData).event
BookingActivated = CATALOG.register("BookingActivated", BookingActivatedData).event
BookingLapsed = CATALOG.register("BookingLapsed", BookingLapsedData).event
CentreClosed = CATALOG.register("CentreClosed", CentreClosedData).event
EmailRequested = CATALOG.register("EmailRequested", EmailRequestedData, public=None).event
BookingRescheduled = CATALOG.register("BookingRescheduled", BookingRescheduledData).event
BookingReminded = CATALOG.register("BookingReminded", BookingRemindedData).event
OrderCodeReissued = CATALOG.register("OrderCodeReissued", OrderCodeReissuedData,
                                     public=OrderCodeReissuedPublic).event
