"""nameko entrypoints of the monitoring service (M-1 … M-4, D-4).

Every public event of every other service arrives on this service's own durable
queue for that service (``monitoring.on_<source>_event``, bound with ``#``) and is
applied to the read models in the same transaction that records its id: exactly
once, whatever RabbitMQ redelivers. Events come in batches (``@on_events``: up to 500,
one transaction and one ack each), applied with a few multi-row statements. Reports
are computed from the read models; a report is kept by ``handlers.py``, decided by
``domain.py`` and written by ``read_model.py``, the only code that writes this
service's tables.
"""
from datetime import timedelta
from pathlib import Path

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge
from werkzeug.wrappers import Response

from shared.edge.auth import require_token
from shared.runtime.worker_clock import Clock
from shared.runtime.consumer import on_events
from shared.runtime.db import Database
from shared.ops.deadletters import dead_letter_queues, depths
from shared.vocabulary.errors import NotFound, Text
from shared.edge.http import http, read_json
from shared.edge.idempotency import Once, once
from shared.edge.platform import PlatformService
from shared.runtime.settings import SettingsProvider
from shared.runtime.timer import every

from . import api, domain, handlers, outputs, read_model, report, schemas
from .events import CATALOG
from .read_model import CATALOGS
from .settings import MonitoringSettings

STUCK = Gauge("asan_stuck_processes",
              "Processes stuck where they should not be, in the last 24 hours (M-3)", ["kind"])
DEAD_LETTERS = Gauge("asan_dead_letter_messages", "Messages parked in a dead-letter queue",
                     ["queue"])
REPORTS = Counter("asan_control_reports_total", "Control reports generated", ["trigger"])
REALM = "ASAN monitoring"
NO_REPORT = Text("report_not_found", "Belə hesabat yoxdur.", "There is no such report.")


class DeadLetters(DependencyProvider):
    """The depth of every dead-letter queue, asked of the broker (``AMQP_URI``)."""

    def setup(self):
        """Name the dead-letter queues once, when the container starts."""
        self.amqp_uri = self.container.config["AMQP_URI"]
        # The handlers and so their queues are fixed at deploy time: named once here,
        # not on every report and gauge refresh (it reads every service's config).
        self.queues = dead_letter_queues()

    def depths(self):
        """``((queue, messages), …)``: each dead-letter queue's depth now."""
        return tuple(depths(self.amqp_uri, self.queues))

    def get_dependency(self, worker_ctx):
        """Every worker shares this provider."""
        return self


class MonitoringService(PlatformService):
    """The monitoring consumer (M-1, M-2) and the automated-control reports (M-3, M-4),
    with the gauges Prometheus alerts on (D-4)."""
    name = "monitoring"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    requests_once = Once()  # a creating request repeated gets its first answer
    settings = SettingsProvider(MonitoringSettings)
    dead_letters = DeadLetters()
    clock = Clock()

    # --- the consumer: every public event of every service -------------------------
    # A batch of events per transaction and per ack (shared.runtime.consumer.on_events); the
    # method names are the queues' and the processed-event records' names.
    @on_events("booking", "#", catalog=CATALOGS["booking"])
    def on_booking_event(self, events):
        """M-1: a batch of booking's public events, applied to the read models once."""
        self._project(events)

    @on_events("notification", "#", catalog=CATALOGS["notification"])
    def on_notification_event(self, events):
        """M-1: a batch of notification's public events, applied to the read models once."""
        self._project(events)

    @on_events("kiosk_gateway", "#", catalog=CATALOGS["kiosk_gateway"])
    def on_kiosk_gateway_event(self, events):
        """M-1: a batch of the kiosk gateway's public events, applied to the read models once."""
        self._project(events)

    @on_events("registry", "#", catalog=CATALOGS["registry"])
    def on_registry_event(self, events):
        """M-1: a batch of registry's public events, applied to the read models once."""
        self._project(events)

    @on_events("complaints", "#", catalog=CATALOGS["complaints"])
    def on_complaints_event(self, events):
        """M-1: a batch of the complaints service's public events, applied to the read
        models once."""
        self._project(events)

    def _project(self, events):
        with self.db.handling_many(events) as (uow, fresh):
            read_model.apply_public_many(uow.conn, fresh)

    # --- reports -------------------------------------------------------------------
    def _params(self, query):
        return report.Params(
            day=query["day"], as_of=query.get("as_of") or self.clock(),
            stuck_after=(timedelta(minutes=query["stuck_after_minutes"])
                         if query.get("stuck_after_minutes") else self.settings.stuck_after),
            centre=query.get("centre"), service=query.get("service"),
            dead_letters=self.dead_letters.depths())

    @http("GET", "/reports/control")
    def control_report(self, request):
        """M-1 … M-3: the report of a day, computed now from the read models, as JSON, CSV
        or HTML (``format``); 400 ``validation_failed`` on a bad query."""
        require_token(request, self.settings.REPORT_TOKEN_SHA256, basic_realm=REALM)
        query = schemas.ReportQuery().load(request.args.to_dict())
        with self.db.connection() as conn:
            built = report.build(conn, self._params(query))
        return _render(built, query["format"])

    @http("POST", "/reports/control")
    @once
    def generate_on_demand(self, request):
        """M-4: compute, keep and announce a report now (``ControlReportGenerated``);
        201 with its summary and ``href``."""
        require_token(request, self.settings.REPORT_TOKEN_SHA256, basic_realm=REALM)
        body = read_json(request, schemas.GenerateBody())
        return 201, self._generate(self._params(body), "on_demand")

    @http("GET", "/reports")
    def generated(self, request):
        """M-4: the kept reports' summaries, optionally of one day or one trigger."""
        require_token(request, self.settings.REPORT_TOKEN_SHA256, basic_realm=REALM)
        query = schemas.ListQuery().load(request.args.to_dict())
        with self.db.connection() as conn:
            rows = read_model.reports(conn, query.get("day"), query.get("trigger"))
        return [handlers.summary(*row) for row in rows]

    @http("GET", "/reports/<uuid:report_id>")
    def generated_report(self, request, report_id):
        """M-4: one kept report as it was made, as JSON, CSV or HTML; 404
        ``report_not_found``."""
        require_token(request, self.settings.REPORT_TOKEN_SHA256, basic_realm=REALM)
        query = schemas.FormatQuery().load(request.args.to_dict())
        with self.db.connection() as conn:
            body = read_model.report_body(conn, report_id)
        if body is None:
            raise NotFound(NO_REPORT)
        return _render(body, query["format"], report_id=str(report_id))

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """The monitoring service's OpenAPI document."""
        return api.spec()

    # --- scheduled jobs ------------------------------------------------------------
    @every("DAILY_REPORT_CHECK_SECONDS")
    def daily_report(self):
        """Yesterday's report (Baku), once, shortly after midnight; several instances
        may run this, the unique index lets one of them keep it."""
        now = self.clock().astimezone(report.BAKU)
        day = domain.daily_report_due(now, self.settings.daily_after)
        if day is None:
            return
        with self.db.connection() as conn:
            done = read_model.daily_report_kept(conn, day)
        if not done:
            self._generate(self._params({"day": day, "as_of": now}), "daily")

    @every("MONITOR_GAUGE_SECONDS")
    def refresh_gauges(self):
        """What Prometheus alerts on (D-4): stuck processes of the last 24 hours and
        the dead letters now."""
        now = self.clock()
        params = report.Params(day=now.astimezone(report.BAKU).date(), as_of=now,
                               stuck_after=self.settings.stuck_after,
                               since=now - timedelta(hours=24), until=now,
                               dead_letters=self.dead_letters.depths())
        with self.db.connection() as conn:
            summary = report.failures(conn, params)["summary"]
        for kind, count in summary.items():
            if kind != "dead_letters":
                STUCK.labels(kind).set(count)
        for queue, messages in params.dead_letters:
            DEAD_LETTERS.labels(queue).set(messages)

    def _generate(self, params, trigger):
        try:
            kept = self.db.run(lambda uow: handlers.keep_report(uow, params, trigger))
        except domain.ReportAlreadyKept:  # another instance kept today's daily report
            return None
        REPORTS.labels(trigger).inc()
        return kept


def _render(built, fmt, report_id=None):
    if fmt == "csv":
        name = f"control-report-{built['day']}.csv"
        return Response(outputs.to_csv(built), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if fmt == "html":
        return Response(outputs.to_html(built, report_id=report_id),
                        content_type="text/html; charset=utf-8")
    return built
