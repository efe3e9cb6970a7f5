"""The monitoring API's queries, bodies and answers (marshmallow): which day's
control report, in which format (M-4)."""

from marshmallow import Schema, fields, validate

from services.booking.reference import ReferenceData
from shared.vocabulary import fields as asan

from .events import ControlReportGeneratedData

_REFERENCE = ReferenceData.load()
CENTRES = tuple(sorted(_REFERENCE.centres))
SERVICES = tuple(sorted(_REFERENCE.services))
FORMATS = ("json", "csv", "html")
STUCK_MAX_MINUTES = 7 * 24 * 60


class ReportQuery(Schema):
    """Which day (Baku), optionally one centre and one service; what to call stuck."""
    day = asan.Date(required=True)
    centre = fields.String(load_default=None, validate=validate.OneOf(CENTRES))
    service = fields.String(load_default=None, validate=validate.OneOf(SERVICES))
    as_of = asan.AwareDateTime(load_default=None, metadata={
        "description": "judge stuck processes as of this moment (default: now)"})
    stuck_after_minutes = asan.Integer(load_default=None, minimum=1, maximum=STUCK_MAX_MINUTES)
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class GenerateBody(Schema):
    """Body of ``POST /reports/control`` (M-4): which day (Baku), optionally one centre
    and one service, and after how many minutes a process counts as stuck (M-3)."""
    day = asan.Date(required=True)
    centre = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CENTRES))
    service = fields.String(load_default=None, allow_none=True,
                            validate=validate.OneOf(SERVICES))
    stuck_after_minutes = asan.Integer(load_default=None, minimum=1, maximum=STUCK_MAX_MINUTES)


class FormatQuery(Schema):
    """``GET /reports/<id>``: the report as ``json`` (default), ``csv`` or ``html``."""
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class ListQuery(Schema):
    """``GET /reports``: only the reports of one day, or of one trigger (``daily`` or
    ``on_demand``)."""
    day = asan.Date(load_default=None)
    trigger = fields.String(load_default=None, validate=validate.OneOf(("daily", "on_demand")))


class GeneratedReport(ControlReportGeneratedData):
    """A kept report: what ``ControlReportGenerated`` announced, and when it was kept."""
    generated_at = fields.AwareDateTime(required=True)
