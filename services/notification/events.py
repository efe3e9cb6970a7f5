"""The event types of the notification service (its public contract).

Delivery states as GOV.UK Notify has them, one event each. Never the recipient's
address, never the content in public: only which intent, which template, what
happened. ``EmailCreated`` keeps the address in the service's own log (its ``emails``
read model is the fold of the events, D-1, issue 16); its public form leaves it out.
``EmailSuperseded`` ends an email that became untrue before it could be delivered
(domain.py says by which rules). ``BookingEventNoted`` (private: never published) is
what the service learned from one of booking's public events, kept so that those
rules decide on the service's own log.

Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve`` and
the projection read.
"""
from marshmallow import Schema, fields, validate

from shared.vocabulary.catalog import EventCatalog


class _Email(Schema):
    intent_id = fields.String(required=True)
    template = fields.String(required=True)
    template_version = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "e.g. booking-<id>"})


class EmailCreatedPublic(_Email):
    """``EmailCreated`` as outside systems read it: the template, language, when requested
    and until when it is of use."""
    language = fields.String(required=True, validate=validate.OneOf(("az", "en")))
    requested_at = fields.AwareDateTime(required=True)
    deliver_by = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "no try after this instant (absent: the old three retries)"})


class EmailCreatedData(EmailCreatedPublic):
    """``EmailCreated`` as stored: plus the recipient (personal data)."""
    # Personal data: in the service's own log only (public=EmailCreatedPublic). Absent
    # from events written before issue 16.
    recipient = fields.String(load_default=None, allow_none=True)


class EmailDeliveredData(_Email):
    """``EmailDelivered``: the attempt that delivered it."""
    attempt = fields.Integer(required=True)


class EmailFailedData(_Email):
    """``EmailTemporaryFailure``, ``EmailPermanentFailure``, ``EmailTechnicalFailure``: the
    attempt, whether and when it is tried again, the SMTP code and detail."""
    attempt = fields.Integer(required=True)
    will_retry = fields.Boolean(required=True)
    retry_in_seconds = fields.Float(load_default=None, allow_none=True,
                                    metadata={"description": "when will_retry: the next try"})
    smtp_code = fields.Integer(allow_none=True)
    detail = fields.String(required=True)


class EmailSupersededData(_Email):
    """``EmailSuperseded``: never sent, because what it says is no longer true; the
    booking event that made it so, the tries made before, when."""
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))
    superseded_by = fields.String(required=True, metadata={
        "description": "the type of the booking event that made the email untrue, e.g. "
                       "BookingCancelled, BookingRescheduled, CodeConfirmed"})
    superseded_at = fields.AwareDateTime(required=True)


class BookingEventNotedData(Schema):
    """``BookingEventNoted`` (private, stream ``booking-<id>``): one of booking's public
    events as the email rules need it: its type, envelope time and correlation id,
    and the visit it names (date, time) when it names one."""
    booking_id = fields.String(required=True)
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    at = fields.AwareDateTime(required=True)
    date = fields.String(load_default=None, allow_none=True)
    time = fields.String(load_default=None, allow_none=True)
    correlation_id = fields.String(load_default=None, allow_none=True)


CATALOG = EventCatalog("notification")
EmailCreated = CATALOG.register("EmailCreated", EmailCreatedData,
                                public=EmailCreatedPublic).event
EmailDelivered = CATALOG.register("EmailDelivered", EmailDeliveredData).event
EmailTemporaryFailure = CATALOG.register("EmailTemporaryFailure", EmailFailedData).event
EmailPermanentFailure = CATALOG.register("EmailPermanentFailure", EmailFailedData).event
EmailTechnicalFailure = CATALOG.register("EmailTechnicalFailure", EmailFailedData).event
EmailSuperseded = CATALOG.register("EmailSuperseded", EmailSupersededData).event
BookingEventNoted = CATALOG.register("BookingEventNoted", BookingEventNotedData,
                                     public=None).event
