"""The event types of the monitoring service and their schemas (its public contract).
Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve``
and the projection read."""
from marshmallow import Schema, fields, validate

from shared.vocabulary.catalog import EventCatalog


class FailureSummary(Schema):
    """M-3: how many failures and shortcomings a report found, per kind: bookings whose
    code or order-code email was not delivered in time, emails that failed for good,
    complaints overdue (C-3), and messages parked in dead-letter queues."""
    code_email_not_delivered = fields.Integer(required=True)
    order_code_email_not_delivered = fields.Integer(required=True)
    emails_failed = fields.Integer(required=True)
    complaints_overdue = fields.Integer(required=True)
    dead_letters = fields.Integer(required=True)


class _Report(Schema):
    """Which control report (M-4): its id, day, trigger, scope and the moment it
    describes."""
    report_id = fields.UUID(required=True)
    day = fields.Date(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(("daily", "on_demand")))
    centre = fields.String(allow_none=True)
    service = fields.String(allow_none=True)
    as_of = fields.AwareDateTime(required=True)


class ControlReportGeneratedData(_Report):
    """M-4: a control report was made (daily by the timer, or on demand); where to read
    it, and how many failures and shortcomings it found. Counts only, no ids."""
    failures = fields.Nested(FailureSummary, required=True)
    href = fields.String(required=True, metadata={"example": "/reports/<report_id>"})


class ControlReportKeptData(_Report):
    """M-4: the whole body of a kept control report, as ``report.build`` computed it
    from the read models when it was made (the ``control_reports`` row is its
    projection). Private: the failure lists name bookings and email references."""
    report = fields.Dict(required=True)


CATALOG = EventCatalog("monitoring")
ControlReportGenerated = CATALOG.register("ControlReportGenerated",
                                          ControlReportGeneratedData).event
ControlReportKept = CATALOG.register("ControlReportKept", ControlReportKeptData,
                                     public=None).event
