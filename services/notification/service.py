"""nameko entrypoints of the notification service: emails to citizens."""
from pathlib import Path

from prometheus_client import Counter

from shared.clock import Clock
from shared.consumer import Delivery, on_event
from shared.db import Database
from shared.http import http
from shared.platform import PlatformService

from services.booking import events as booking_events
from services.complaints import events as complaints_events

from . import api, handlers
from .events import CATALOG
from .sender import Smtp
from .templates import Templates

TEMPLATES = Templates()
EMAILS = Counter("asan_emails_total",
                 "Delivery attempts by outcome: delivered, temporary, permanent, technical",
                 ["template", "outcome"])


class NotificationService(PlatformService):
    name = "notification"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
    smtp = Smtp()
    clock = Clock()
    delivery = Delivery()

    @on_event("booking", "EmailRequested", catalog=booking_events.CATALOG, private=True)
    def on_booking_email(self, request):
        """Codes reach us over booking's private exchange, never in public events."""
        self._deliver(request)

    @on_event("complaints", "EmailRequested", catalog=complaints_events.CATALOG, private=True)
    def on_complaint_email(self, request):
        """Acknowledgements with the reference number, and answers (C-1, C-3)."""
        self._deliver(request)

    def _deliver(self, request):
        with self.db.unit_of_work(causation_id=request.id) as uow:
            outcome = handlers.deliver(uow, TEMPLATES, self.smtp, request, self.delivery,
                                       self.clock())
        attempted = uow.recorded[-1] if uow.recorded else None
        if attempted is not None and attempted.type in handlers.OUTCOME_OF:
            EMAILS.labels(attempted.data["template"], handlers.OUTCOME_OF[attempted.type]).inc()
        if outcome == "retry":
            raise handlers.TryAgainLater(request.data["intent_id"])

    @http("GET", "/emails/<path:reference>")
    def emails_of(self, request, reference):
        """What happened to the emails about one thing (e.g. booking-<id>): states only."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT intent_id, status, template, template_version, attempts, updated_at"
                " FROM emails WHERE reference = %s ORDER BY created_at", (reference,)).fetchall()
        keys = ("intent_id", "status", "template", "template_version", "attempts", "updated_at")
        return [dict(zip(keys, (str(v) if k == "updated_at" else v for k, v in zip(keys, row))))
                for row in rows]

    @http("GET", "/openapi.json")
    def openapi(self, request):
        return api.spec()
