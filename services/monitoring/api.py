"""The monitoring service's HTTP API (M-4), described once: routes for OpenAPI (the
schemas are in ``schemas.py``)."""

from shared.edge.openapi import UUID_PARAM, Route, build_spec

from .schemas import ReportQuery, GenerateBody, FormatQuery, ListQuery, GeneratedReport

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
