"""What every service class has: health, metrics, worker logs and metrics.

    class BookingService(PlatformService):
        name = "booking"
        db = Database(CATALOG, migrations=...)

The entrypoints defined here are inherited by each service (nameko collects
decorated methods from the whole class hierarchy).
"""
from werkzeug.wrappers import Response

from .http import http
from .logs import WorkerLogging
from .metrics import EntrypointMetrics, exposition


class PlatformService:
    # No ``name`` here: nameko would take this mixin for a service of its own.
    metrics = EntrypointMetrics()
    logs = WorkerLogging()

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
        body, content_type = exposition()
        return Response(body, content_type=content_type)
