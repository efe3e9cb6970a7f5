"""nameko entrypoints of the kiosk gateway: the only door for the kiosks (D-5)."""
import logging
import time
from datetime import timedelta
from pathlib import Path

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge

from shared.auth import require_token
from shared.clock import Clock
from shared.db import Database
from shared.errors import Refusal, TooManyRequests
from shared.http import http, read_json
from shared.idempotency import Once, once
from shared.platform import PlatformService
from shared.rpc import RpcProxy
from shared.timer import every

from . import api, domain, handlers, read_model, schemas
from .events import CATALOG

KIOSKS_NOT_SEEN = Gauge("asan_kiosks_not_seen",
                        "Active kiosks without a heartbeat within KIOSK_STALE_SECONDS",
                        ["centre"])
KIOSK_SLOWED = Counter("asan_kiosk_slowed_down_total",
                       "Kiosk calls refused because the kiosk sent too many wrong codes",
                       ["centre"])
log = logging.getLogger(__name__)
ACTIVATIONS = Counter("asan_kiosk_activations_total", "Activation attempts at kiosks",
                      ["centre", "outcome"])


class GatewayConfig(DependencyProvider):
    """The gateway's settings: admin token hashes, how long a kiosk may be silent
    (``KIOSK_STALE_SECONDS``, default 120 s), the activation :class:`~.domain.Policy`,
    and booking's service catalogue, cached for ``CATALOGUE_TTL_SECONDS`` (default 6 h)."""

    def setup(self):
        """Read the settings once, when the container starts."""
        config = self.container.config
        self.admin_tokens = config.get("ADMIN_TOKEN_SHA256") or []
        self.stale = timedelta(seconds=float(config.get("KIOSK_STALE_SECONDS", 120)))
        self.policy = domain.Policy(
            repeat_window=timedelta(minutes=float(config.get("REPEAT_WINDOW_MINUTES", 10))),
            free_failures=int(config.get("FREE_FAILURES", 5)),
            base_delay=timedelta(seconds=float(config.get("SLOW_DOWN_SECONDS", 2))))
        self.catalogue = None
        self.catalogue_fetched_at = 0.0
        self.ttl = float(config.get("CATALOGUE_TTL_SECONDS", 6 * 3600))
        # Issue 17 §6: staff may close a centre's day at any time (an emergency): the
        # catalogue, which carries the closures, is asked again this often while it is
        # younger than the TTL, and kept as it is when booking does not answer.
        self.closures_refresh = float(config.get("CLOSURES_REFRESH_SECONDS", 60))
        self.catalogue_asked_at = 0.0

    def get_dependency(self, worker_ctx):
        """Every worker shares this provider: the settings and the catalogue cache."""
        return self


class KioskGatewayService(PlatformService):
    """The kiosks' only door (D-5): activations (Q-7), walk-ins, heartbeats and the
    queue for kiosks (their own Bearer token); registering, rotating and revoking kiosks
    for staff (the admin token)."""
    name = "kiosk_gateway"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    requests_once = Once()  # a creating request repeated gets its first answer
    booking = RpcProxy("booking")
    config = GatewayConfig()
    clock = Clock()

    def _catalogue(self):
        """Names, hours and closed days, from booking (the owner of the data); asked
        again after ``CATALOGUE_TTL_SECONDS`` so the closed days never run out."""
        fetched = self.config.catalogue_fetched_at
        if self.config.catalogue is None or time.monotonic() - fetched > self.config.ttl:
            self.config.catalogue = self.booking.service_catalogue()
            self.config.catalogue_fetched_at = time.monotonic()
        elif time.monotonic() - max(fetched, self.config.catalogue_asked_at) > \
                self.config.closures_refresh:
            self._refresh_catalogue()
        return self.config.catalogue

    def _refresh_catalogue(self):
        """Issue 17 §6: the catalogue again, for the closures decided since; when booking
        does not answer, walk-ins go on with the one we have (until the TTL), and it is
        asked again only after ``CLOSURES_REFRESH_SECONDS``."""
        self.config.catalogue_asked_at = time.monotonic()
        try:
            catalogue = self.booking.service_catalogue()
        except Exception as error:  # booking down or slow: not the kiosk's problem yet
            log.warning("catalogue not refreshed, walk-ins go on with the one of %.0f s ago:"
                        " %r", time.monotonic() - self.config.catalogue_fetched_at, error)
            return
        self.config.catalogue = catalogue
        self.config.catalogue_fetched_at = time.monotonic()

    def _kiosk(self, request):
        with self.db.connection() as conn:
            return handlers.authenticate(conn, request)

    # --- kiosks -----------------------------------------------------------------------
    @http("POST", "/kiosk/activations")
    def activate(self, request):
        """Q-7: the order code in, a ticket out; the same request again, the same ticket."""
        kiosk_id, centre = self._kiosk(request)
        body = read_json(request, schemas.OrderCodeBody())
        catalogue = self._catalogue()
        now = self.clock()
        try:
            ticket = self.db.run(lambda uow: handlers.activate(
                uow, self.booking, catalogue, kiosk_id, centre, body["order_code"], now,
                self.config.policy))
        except TooManyRequests:
            KIOSK_SLOWED.labels(centre).inc()
            raise
        except Refusal as refused:
            if refused.keeps_record:  # an activation refused (not a fault on the way)
                ACTIVATIONS.labels(centre, refused.error).inc()
            raise
        ACTIVATIONS.labels(centre, "ticket").inc()
        return ticket

    @http("POST", "/kiosk/walk-ins")
    @once(by_body=False)  # a kiosk sends an Idempotency-Key per press of the button
    def walk_in(self, request):
        """A walk-in ticket (its own number series) for the service in the body, while the
        centre is open; one per ``Idempotency-Key``. 404 ``not_offered``, 409 ``centre_closed``."""
        kiosk_id, centre = self._kiosk(request)
        body = read_json(request, schemas.WalkInBody())
        catalogue, now = self._catalogue(), self.clock()
        return self.db.run(lambda uow: handlers.walk_in(uow, catalogue, kiosk_id, centre,
                                                        body["service"], now))

    @http("POST", "/kiosk/heartbeat")
    def heartbeat(self, request):
        """The kiosk says it is alive; answers ``{kiosk_id, centre, status: "ok"}``."""
        kiosk_id, centre = self._kiosk(request)
        with self.db.connection() as conn:
            handlers.heartbeat(conn, kiosk_id, self.clock())
            conn.commit()
        return {"kiosk_id": kiosk_id, "centre": centre, "status": "ok"}

    @http("GET", "/kiosk/queue")
    def queue(self, request):
        """Today's (Baku) tickets of the kiosk's centre, in the order they will be called."""
        _, centre = self._kiosk(request)
        with self.db.connection() as conn:
            return {"centre": centre, "queue": handlers.queue(conn, centre, self.clock())}

    @every("KIOSK_HEALTH_SECONDS", 15)
    def kiosk_health(self):
        """Every ``KIOSK_HEALTH_SECONDS`` (default 15 s), per centre: the active kiosks
        without a heartbeat for ``KIOSK_STALE_SECONDS``, as ``asan_kiosks_not_seen`` (D-4)."""
        with self.db.connection() as conn:
            for centre, count in read_model.kiosks_not_seen(conn, self.clock(),
                                                          self.config.stale).items():
                KIOSKS_NOT_SEEN.labels(centre).set(count)

    # --- administration of kiosks (staff of the agency) ----------------------------
    @http("POST", "/admin/kiosks")
    @once(by_body=False)
    def register(self, request):
        """Staff register a kiosk of a centre (D-5): 201 with its credential, shown once;
        404 ``unknown_centre``."""
        require_token(request, self.config.admin_tokens)
        body = read_json(request, schemas.NewKioskBody())
        centres = self._catalogue()["centres"]
        return 201, self.db.run(lambda uow: handlers.register_kiosk(uow, body["centre"], centres))

    @http("POST", "/admin/kiosks/<string:kiosk_id>/rotate")
    def rotate(self, request, kiosk_id):
        """Staff give kiosk ``kiosk_id`` a new credential; the old one stops working."""
        require_token(request, self.config.admin_tokens)
        return self.db.run(lambda uow: handlers.rotate_credential(uow, kiosk_id))

    @http("POST", "/admin/kiosks/<string:kiosk_id>/revoke")
    def revoke(self, request, kiosk_id):
        """Staff revoke kiosk ``kiosk_id``: it is refused from now on."""
        require_token(request, self.config.admin_tokens)
        return self.db.run(lambda uow: handlers.revoke_kiosk(uow, kiosk_id))

    @http("GET", "/admin/kiosks")
    def kiosks(self, request):
        """Staff see every kiosk: its centre, status, last heartbeat and wrong codes in a row."""
        require_token(request, self.config.admin_tokens)
        with self.db.connection() as conn:
            return read_model.kiosks(conn)

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """The gateway's OpenAPI document."""
        return api.spec()
