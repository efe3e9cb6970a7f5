"""What every service class has: health, metrics, worker logs and metrics.

    class BookingService(PlatformService):
        name = "booking"
        db = Database(CATALOG, migrations=...)

The entrypoints defined here are inherited by each service (nameko collects
decorated methods from the whole class hierarchy).
"""
import json
from pathlib import Path

from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from ..vocabulary.errors import NotFound, Text, Unavailable
from .http import http
from ..runtime.logs import WorkerLogging
from ..runtime.metrics import EntrypointMetrics, exposition
from ..runtime.settings import setting


class PlatformService:
    """The mixin of every service class: ``GET /health``, ``/live``, ``/metrics`` and
    ``/.well-known/jwks.json``, entrypoint metrics (D-4) and worker logs with the correlation
    id."""

    # No ``name`` here: nameko would take this mixin for a service of its own.
    metrics = EntrypointMetrics()
    logs = WorkerLogging()
    platform_config = Config()

    @http("GET", "/health")
    def health(self, request):
        """Ready when the service's own database answers (if it has one)."""
        db = getattr(self, "db", None)
        checks = {"database": "ok" if db is None or db.ping() else "down"}
        return {"service": self.name, "status": "ok", "checks": checks}

    @http("GET", "/live")
    def live(self, request):
        """Liveness: the process answers (no dependency is touched)."""
        return {"service": self.name, "status": "live"}

    @http("GET", "/metrics")
    def prometheus_metrics(self, request):
        """The process's Prometheus metrics in the text exposition format (D-4, M-1)."""
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    @http("GET", "/.well-known/jwks.json")
    def jwks(self, request):
        """The public keys that verify this service's events (issue 14 §4): a JWKS
        (RFC 7517) of the active and retired keys of ``EVENT_SIGNING_KEYS`` that are this
        service's own (``kid`` ``<service>-…``), never a revoked one. Read at each
        request, so a rotation shows at once; cacheable for five minutes. 404 for a
        service that publishes no events (the pages)."""
        from ..runtime.signatures import load_keys, public_jwks

        if "EVENT_SIGNING_KEYS" not in self.platform_config:
            raise NotFound(Text("no_event_keys", "Bu xidmət hadisə dərc etmir.",
                                "This service publishes no events."))
        path = setting(self.platform_config, "EVENT_SIGNING_KEYS", str)
        try:
            keys = public_jwks(load_keys(Path(path)), self.name)
        except (OSError, ValueError):
            raise Unavailable() from None
        return Response(json.dumps(keys), content_type="application/jwk-set+json",
                        headers={"Cache-Control": "public, max-age=300"})
