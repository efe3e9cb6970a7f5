"""nameko entrypoints of the notification service: emails to citizens."""
from pathlib import Path

from prometheus_client import Counter

from shared.edge.auth import require_token
from shared.runtime.worker_clock import Clock
from shared.runtime.consumer import RedeliverLater, on_event
from shared.runtime.db import Database
from shared.vocabulary.email_request import request_catalog
from shared.edge.http import http
from shared.runtime.metrics import at_zero
from shared.edge.platform import PlatformService
from shared.runtime.settings import SettingsProvider

from services.booking.events import CATALOG as BOOKING_EVENTS

from . import api, handlers, read_model
from .events import CATALOG
from .sender import Smtp
from .settings import NotificationSettings
from .templates import Templates

TEMPLATES = Templates()
# The senders' email requests, read by the shared contract (not the senders' code).
BOOKING_REQUESTS = request_catalog("booking")
COMPLAINTS_REQUESTS = request_catalog("complaints")
EMAILS = at_zero(Counter("asan_emails_total",
                         "Delivery attempts by outcome: delivered, temporary, permanent, technical;"
                         " superseded: ended unsent, no longer true",
                         ["template", "outcome"]),
                 TEMPLATES.versions, handlers.OUTCOME_OF.values())


class NotificationService(PlatformService):
    """The notification service: emails to citizens from the other services' requests
    (exactly one per intent), their delivery states."""
    name = "notification"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    settings = SettingsProvider(NotificationSettings)
    smtp = Smtp()
    clock = Clock()

    @on_event("booking", "EmailRequested", catalog=BOOKING_REQUESTS, private=True,
              redelivery=True)
    def on_booking_email(self, request):
        """Codes reach us over booking's private exchange, never in public events."""
        self._deliver(request, BOOKING_REQUESTS)

    @on_event("complaints", "EmailRequested", catalog=COMPLAINTS_REQUESTS, private=True,
              redelivery=True)
    def on_complaint_email(self, request):
        """Acknowledgements with the reference number, and answers (C-1, C-3)."""
        self._deliver(request, COMPLAINTS_REQUESTS)

    @on_event("booking", "#", catalog=BOOKING_EVENTS)
    def on_booking_event(self, event):
        """Booking's public events that can make an email untrue (a cancellation, a
        move, a confirmed hold, a new order code…), noted in this service's log for
        the next try of each email about the booking (domain.untrue)."""
        if event.type not in handlers.NOTED:
            return
        with self.db.handling(event) as uow:
            handlers.note(uow, event)

    def _deliver(self, request, requests):
        """One try. A temporary failure is committed first, then the request is asked
        for again when the schedule says (not a failure of this handler: a bug here
        still retries and parks). The email's stream (its lock and its folded state),
        not a claimed event id, keeps it to one email: a redelivery must reach the
        handler. ``requests``: the sender's request catalogue."""
        with self.db.unit_of_work(causation_id=request.id) as uow:
            attempted = handlers.deliver(uow, TEMPLATES, self.smtp, request, self.clock(),
                                         self.settings.retry_schedule, requests)
        if uow.recorded:
            last = CATALOG.read(uow.recorded[-1].type, uow.recorded[-1].data)
            if type(last) in handlers.OUTCOME_OF:
                EMAILS.labels(last.template, handlers.OUTCOME_OF[type(last)]).inc()
        if attempted.retry_in is not None:
            raise RedeliverLater(attempted.retry_in)

    @http("GET", "/emails/<path:reference>")
    def emails_of(self, request, reference):
        """What happened to the emails about one thing (e.g. booking-<id>): states only.
        Staff only (the call centre's token): booking ids are in public events, and
        whether and when a citizen's emails arrived is theirs. 401 without it."""
        require_token(request, self.settings.OPERATOR_TOKEN_SHA256)
        with self.db.connection() as conn:
            return read_model.emails_about(conn, reference)

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """This service's OpenAPI document."""
        return api.spec()
