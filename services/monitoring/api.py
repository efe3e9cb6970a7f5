"""The monitoring service's HTTP API (M-4): request schemas and routes."""
from marshmallow import Schema, fields, validate

from services.booking.reference import ReferenceData
from shared import fields as asan
from shared.openapi import UUID_PARAM, Route, build_spec

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


_FORMAT_NOTE = ("`format=json` (default), `csv` (metric,value rows) or `html` (a page with "
                "charts). Staff token as Bearer, or as the password of HTTP Basic in a browser.")

ROUTES = [
    Route("GET", "/reports/control", "The control report of a day, computed now (M-1 … M-3)",
          query=ReportQuery, errors={400: ("validation_failed",)}, security=True,
          description=_FORMAT_NOTE, tags=("reports",)),
    Route("POST", "/reports/control", "Generate, keep and announce a report (on demand)",
          request=GenerateBody, response=GeneratedReport, status=201, security=True,
          command=True, once=True, errors={400: ("validation_failed",)}, tags=("reports",)),
    Route("GET", "/reports", "Reports generated so far (daily and on demand), newest first",
          query=ListQuery, response=GeneratedReport, many=True,
          errors={400: ("validation_failed",)}, security=True, tags=("reports",)),
    Route("GET", "/reports/{report_id}", "One generated report, as it was made",
          query=FormatQuery, errors={400: ("validation_failed",),
                                     404: ("report_not_found", "not_found")},
          params={"report_id": UUID_PARAM}, security=True, description=_FORMAT_NOTE,
          tags=("reports",)),
]


def spec():
    """The monitoring service's OpenAPI 3.0.3 document (a ``dict``), for ``GET /openapi.json``."""
    return build_spec("ASAN xidmət — monitoring and automated-control reports", "1.0.0",
                      "Control reports per day, centre and service (M-1 … M-4), built from the "
                      "public events of every service.", ROUTES)
