"""nameko entrypoints of the registry: the FIN lookup, always open (F-5)."""
import time
from pathlib import Path

from marshmallow import ValidationError
from prometheus_client import Counter

from shared.edge.auth import require_token
from shared.edge.clients import Clients
from shared.vocabulary.clock import baku_today, validating_on
from shared.runtime.worker_clock import Clock
from shared.runtime.db import Database
from shared.vocabulary.errors import Gone, Text, reasons_from_marshmallow
from shared.edge.http import http, read_json
from shared.runtime.metrics import at_zero
from shared.edge.platform import PlatformService
from shared.edge.ratelimit import RateLimits
from shared.runtime.settings import SettingsProvider

from . import api, domain, handlers, read_model, schemas
from .events import CATALOG
from .settings import RegistrySettings

GONE_PATH = Text("moved_to_body", "Bu ünvan artıq işləmir: vəsiqənin nömrəsini sorğunun"
                 " mətnində POST /admin/id-cards/invalidate ünvanına göndərin.",
                 "This address is gone: send the card number in the body to POST"
                 " /admin/id-cards/invalidate.")

# The lookups (F-1, F-2) and what each can end in; their counters exist from the start.
FIN_METHODS = ("id_card", "name")
FIN_OUTCOMES = ("found", "not_found", "ambiguous", "invalid", "throttled")
FIN_QUERIES = at_zero(Counter("asan_fin_queries_total", "FIN lookups by method and outcome",
                              ["method", "outcome"]), FIN_METHODS, FIN_OUTCOMES)
FIN_THROTTLED = at_zero(Counter(
    "asan_fin_throttled_total",
    "FIN lookups answered 'try again in a moment' (per-client throttle)", ["method"]),
    FIN_METHODS)


class RegistryService(PlatformService):
    """The FIN lookup (F-1, F-2), audited (F-6), and the registry staff's changes."""

    name = "registry"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    settings = SettingsProvider(RegistrySettings)
    clock = Clock()
    clients = Clients()
    # F-5: far above what a person types, shared by every instance; only ever a short wait.
    limits = RateLimits(("fin_lookup",))

    def _lookup(self, request, method, schema):
        started = time.perf_counter()
        asked_at = self.clock()
        client = self.clients.of(request)
        # F-5: counted before anything else, so a malformed query counts too.
        wait = self.limits.wait("fin_lookup", client.key, asked_at)
        if wait:
            FIN_THROTTLED.labels(method).inc()
            FIN_QUERIES.labels(method, "throttled").inc()
            self.db.run(lambda uow: handlers.refuse(  # F-6: registered, then refused
                uow, method, {}, str(client), "throttled", asked_at, started,
                lambda events: domain.throttled(wait, events)))
        raw = read_json(request)
        try:
            with validating_on(baku_today(asked_at)):  # a birth date of today is plausible
                query = schema.load(raw)
        except ValidationError as error:
            FIN_QUERIES.labels(method, "invalid").inc()
            reasons = reasons_from_marshmallow(error.messages)
            self.db.run(lambda uow: handlers.refuse(
                uow, method, raw, str(client), "invalid", asked_at, started,
                lambda events: domain.QueryInvalid(reasons, events=events)))
        try:
            answer = self.db.run(lambda uow: handlers.find(
                uow, method, query, str(client), baku_today(asked_at), asked_at, started))
        except (domain.QueryNotFound, domain.QueryAmbiguous) as refused:
            FIN_QUERIES.labels(method, refused.error).inc()  # its error names the outcome
            raise
        FIN_QUERIES.labels(method, answer.outcome).inc()
        return {"fin": answer.fin, "message": {"az": "Fərdi identifikasiya nömrəniz (FİN).",
                                               "en": "Your personal identification number."}}

    @http("POST", "/fin/by-id-card")
    def by_id_card(self, request):
        """F-1: by the series and number of the ID card."""
        return self._lookup(request, "id_card", schemas.IdCardQuery())

    @http("POST", "/fin/by-name")
    def by_name(self, request):
        """F-2: by name, surname, patronymic and birth date, when there is no card."""
        return self._lookup(request, "name", schemas.NameQuery())

    # --- staff of the Population State Registry ------------------------------------
    @http("POST", "/admin/persons")
    def register_person(self, request):
        """201 with the FIN; 409 ``fin_taken`` / ``card_taken``."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        body = read_json(request, schemas.PersonBody())
        card = body.pop("card")
        self.db.run(lambda uow: handlers.register_person(uow, body, card))
        return 201, {"fin": body["fin"], "status": "registered"}

    @http("POST", "/admin/id-cards/invalidate")
    def invalidate_card(self, request):
        """An ID card replaced or lost. The card number travels in the body: a URL
        ends up in access logs and proxies' logs (non-negotiable 6)."""
        require_token(request, self.settings.STAFF_TOKEN_SHA256)
        body = read_json(request, schemas.InvalidateBody())
        self.db.run(lambda uow: handlers.invalidate_card(uow, body["series_number"],
                                                         body["status"]))
        return {"status": body["status"]}

    @http("POST", "/admin/id-cards/<path:anything>/invalidate")
    def invalidate_card_by_path(self, request, anything):
        """The old route, which carried the card number in the URL: gone. Our access
        log records only the route template, never the number."""
        raise Gone(GONE_PATH, error="moved_to_body")

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """The OpenAPI description of this API."""
        return api.spec()

