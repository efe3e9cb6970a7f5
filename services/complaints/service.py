"""nameko entrypoints of the complaints service (C-1 … C-4)."""
from pathlib import Path

from marshmallow import ValidationError
from prometheus_client import Gauge

from shared.edge.auth import require_token
from shared.edge.clients import Clients
from shared.vocabulary.clock import baku_today, validating_on
from shared.runtime.worker_clock import Clock
from shared.runtime.db import Database
from shared.vocabulary.errors import ValidationFailed, reasons_from_marshmallow
from shared.edge.http import http, read_json
from shared.edge.idempotency import Once, once
from shared.edge.platform import PlatformService
from shared.edge.ratelimit import RateLimits
from shared.runtime.settings import SettingsProvider
from shared.runtime.timer import every

from . import api, domain, handlers, read_model, schemas
from .events import CATALOG
from .settings import ComplaintsSettings

OVERDUE = Gauge("asan_complaints_overdue", "Open complaints past their one-month deadline")
APPROACHING = Gauge("asan_complaints_due_soon",
                    "Open complaints within COMPLAINT_WARN_DAYS of their deadline")


def _load(request, schema, now):
    """Field errors and the C-2 identity rule, reported together; days judged by the
    Baku day of ``now`` (a letter is not received tomorrow)."""
    raw = read_json(request)
    reasons = domain.identity_problems(raw)
    try:
        with validating_on(baku_today(now)):
            body = schema.load(raw)
    except ValidationError as error:
        reasons = reasons_from_marshmallow(error.messages) + reasons
        body = None
    if reasons:
        raise ValidationFailed(reasons)
    return body


class ComplaintsService(PlatformService):
    """Complaints about the queue booking and the FIN lookup (C-1 … C-4): filed
    electronically or on paper, acknowledged, assigned, answered within a month, with
    deadline warnings."""
    name = "complaints"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    requests_once = Once()  # a creating request repeated gets its first answer
    settings = SettingsProvider(ComplaintsSettings)
    clock = Clock()
    clients = Clients()
    # Issue 12: per client (address) and per email (each complaint emails that address),
    # shared by every instance; RATE_LIMITS in config.
    limits = RateLimits(("complaint_file", "complaint_file_email", "complaint_withdraw"))

    @http("POST", "/complaints")
    @once
    def file_electronic(self, request):
        """C-1, C-4: a complainant files a complaint electronically; answered with its
        reference number."""
        now = self.clock()
        client = self.clients.of(request).key
        self.limits.check("complaint_file", client, now)
        body = _load(request, schemas.ComplaintBody(), now)
        if body["email"]:
            # per email *from this client*: an address anyone may type must not let them
            # lock its owner out of complaining (issue 12, F-5)
            self.limits.check("complaint_file_email", f"{body['email'].lower()}|{client}", now,
                              field="email")
        return 201, self.db.run(lambda uow: handlers.file(uow, body, "electronic", now))

    @http("POST", "/complaints/withdraw")
    def withdraw(self, request):
        """The complainant withdraws a complaint by its reference number."""
        now = self.clock()
        self.limits.check("complaint_withdraw", self.clients.of(request).key, now)
        body = read_json(request, schemas.WithdrawBody())
        return self.db.run(lambda uow: handlers.withdraw(uow, body["reference"], now))

    @http("POST", "/staff/complaints")
    @once
    def file_paper(self, request):
        """C-4: staff register a paper complaint (staff token)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        now = self.clock()
        body = _load(request, schemas.PaperComplaintBody(), now)
        return 201, self.db.run(lambda uow: handlers.file(uow, body, "paper", now))

    @http("GET", "/staff/complaints")
    def listing(self, request):
        """Staff list complaints, newest first, filtered by status or service (staff token)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        criteria = schemas.ListQuery().load(request.args.to_dict())
        with self.db.connection() as conn:
            return read_model.listing(conn, criteria, baku_today(self.clock()))

    @http("GET", "/staff/complaints/<uuid:complaint_id>")
    def detail(self, request, complaint_id):
        """Staff read one complaint (staff token)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        with self.db.connection() as conn:
            return {"history": handlers.history(self.db.store, conn, str(complaint_id))}

    @http("POST", "/staff/complaints/<uuid:complaint_id>/assign")
    def assign(self, request, complaint_id):
        """Staff assign a complaint to a reviewer (staff token)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        body = read_json(request, schemas.AssignBody())
        now = self.clock()
        return self.db.run(lambda uow: handlers.assign(uow, str(complaint_id), body["reviewer"],
                                                       now))

    @http("POST", "/staff/complaints/<uuid:complaint_id>/answer")
    def answer(self, request, complaint_id):
        """C-3: staff answer a complaint (staff token)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        body = read_json(request, schemas.AnswerBody())
        now = self.clock()
        return self.db.run(lambda uow: handlers.answer(uow, str(complaint_id), body["decision"],
                                                       body["answer"], now))

    @every("DEADLINE_CHECK_SECONDS")
    def check_deadlines(self):
        """C-3: warnings and breaches, once each, and the gauges operators watch."""
        today = baku_today(self.clock())
        warn_days = self.settings.COMPLAINT_WARN_DAYS
        found = self.db.run(lambda uow: handlers.check_deadlines(uow, today, warn_days))
        with self.db.connection() as conn:
            overdue, soon = read_model.deadline_counts(conn, today, warn_days)
        OVERDUE.set(overdue)
        APPROACHING.set(soon)
        return found

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """This service's OpenAPI document."""
        return api.spec()
