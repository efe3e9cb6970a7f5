"""nameko entrypoints of the kiosk gateway: the only door for the kiosks (D-5)."""
import logging
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram

from shared.edge.auth import require_token
from shared.runtime.worker_clock import Clock
from shared.runtime.db import Database
from shared.vocabulary.errors import Refusal, TooManyRequests
from shared.edge.http import http, read_json
from shared.edge.idempotency import Once, once
from shared.runtime.metrics import at_zero
from shared.edge.platform import PlatformService
from shared.runtime.rpc import RpcProxy
from shared.runtime.settings import SettingsProvider
from shared.runtime.timer import every

from services.booking.reference import ReferenceData

from . import api, domain, handlers, read_model, schemas
from .events import CATALOG
from .settings import KioskGatewaySettings

log = logging.getLogger(__name__)

KIOSKS_NOT_SEEN = Gauge("asan_kiosks_not_seen",
                        "Active kiosks without a heartbeat within KIOSK_STALE_SECONDS",
                        ["centre"])


class KioskTurns:
    """One activation per kiosk at a time in this process, waited for before a
    database connection is taken (D-5): a kiosk pressed again and again while booking
    is slow then holds one of the gateway's connections, not all of them, and the
    other kiosks go on. The database lock (``read_model.activation_turn``) still
    orders a kiosk's activations across instances. One semaphore per kiosk that
    activated (registered kiosks: a bounded number)."""

    def __init__(self):
        self._turns = {}

    @contextmanager
    def turn(self, kiosk_id, wait_seconds):
        """Holds ``kiosk_id``'s turn for the block; 409 ``busy``
        (:class:`~.domain.ActivationInProgress`) when the kiosk's previous activations
        still hold it after ``wait_seconds``."""
        semaphore = self._turns.setdefault(kiosk_id, Semaphore(1))
        if not semaphore.acquire(timeout=wait_seconds):
            raise domain.ActivationInProgress()
        try:
            yield
        finally:
            semaphore.release()


KIOSK_TURNS = KioskTurns()
KIOSK_SLOWED = Counter("asan_kiosk_slowed_down_total",
                       "Kiosk calls refused because the kiosk sent too many wrong codes",
                       ["centre"])
ACTIVATIONS = Counter("asan_kiosk_activations_total", "Activation attempts at kiosks",
                      ["centre", "outcome"])
# Issue 17 §3: waiting (print → first call) and service (call → served) times, observed
# when the call's transaction has committed; the control report has the same figures
# from the events.
TIME_BUCKETS = (30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
WAITING_SECONDS = Histogram("asan_ticket_waiting_seconds",
                            "Seconds from a ticket's printing to its first call",
                            ["centre", "service"], buckets=TIME_BUCKETS)
SERVICE_SECONDS = Histogram("asan_ticket_service_seconds",
                            "Seconds from a ticket's call to its visitor being served",
                            ["centre", "service"], buckets=TIME_BUCKETS)
CALLS = Counter("asan_ticket_calls_total", "What counters did with tickets",
                ["centre", "outcome"])
COUNTER_OUTCOMES = ("called", "recalled", "no_show", "transferred", "served")


def _series_at_zero(reference):
    """Every centre's series at 0 from start-up (the centres and the services they offer
    are reference data), so that an alert's ``increase()`` or a panel sees the first
    activation, slow-down or call instead of a series that was not there: activations
    issued as tickets, slow-downs, the counters' acts, the waiting and service times."""
    centres = sorted(reference.centres)
    at_zero(KIOSK_SLOWED, centres)
    at_zero(ACTIVATIONS, centres, ["ticket"])
    at_zero(CALLS, centres, COUNTER_OUTCOMES)
    for code in centres:
        offered = sorted(reference.centres[code].services)
        at_zero(WAITING_SECONDS, [code], offered)
        at_zero(SERVICE_SECONDS, [code], offered)


_series_at_zero(ReferenceData.load())


def _seconds(start, end):
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def observe(outcome, event):
    """Count a counter's act (``outcome``: called, recalled, no_show, transferred,
    served) and observe the waiting or service time its (typed) ``event`` gives."""
    CALLS.labels(event.centre, outcome).inc()
    if outcome == "called" and event.first_call:
        WAITING_SECONDS.labels(event.centre, event.service).observe(
            _seconds(event.issued_at, event.called_at))
    elif outcome == "served":
        SERVICE_SECONDS.labels(event.centre, event.service).observe(
            _seconds(event.called_at, event.served_at))


class CatalogueCache(DependencyProvider):
    """Booking's service catalogue as last fetched, shared by every worker:
    ``catalogue`` (``None`` before the first), ``fetched_at`` (when it was last
    answered) and ``asked_at`` (when it was last asked), in ``time.monotonic()``
    seconds. Staff may close a centre's day at any time (an emergency): the catalogue,
    which carries the closures, is asked again every ``CLOSURES_REFRESH_SECONDS``, and
    kept as it is when booking does not answer, until ``CATALOGUE_TTL_SECONDS``."""

    def setup(self):
        """Nothing fetched yet, when the container starts."""
        self.catalogue = None
        self.fetched_at = 0.0
        self.asked_at = 0.0

    def get_dependency(self, worker_ctx):
        """Every worker shares this provider: the cache itself."""
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
    settings = SettingsProvider(KioskGatewaySettings)
    cache = CatalogueCache()
    clock = Clock()

    def _catalogue(self):
        """Names, hours and closed days, from booking (the owner of the data); asked
        again after ``CATALOGUE_TTL_SECONDS`` so the closed days never run out."""
        cache, fetched = self.cache, self.cache.fetched_at
        if cache.catalogue is None or \
                time.monotonic() - fetched > self.settings.CATALOGUE_TTL_SECONDS:
            cache.catalogue = self.booking.service_catalogue()
            cache.fetched_at = time.monotonic()
        elif time.monotonic() - max(fetched, cache.asked_at) > \
                self.settings.CLOSURES_REFRESH_SECONDS:
            self._refresh_catalogue()
        return cache.catalogue

    def _refresh_catalogue(self):
        """Issue 17 §6: the catalogue again, for the closures decided since; when booking
        does not answer, walk-ins go on with the one we have (until the TTL), and it is
        asked again only after ``CLOSURES_REFRESH_SECONDS``."""
        self.cache.asked_at = time.monotonic()
        try:
            catalogue = self.booking.service_catalogue()
        except Exception as error:  # booking down or slow: not the kiosk's problem yet
            log.warning("catalogue not refreshed, walk-ins go on with the one of %.0f s ago:"
                        " %r", time.monotonic() - self.cache.fetched_at, error)
            return
        self.cache.catalogue = catalogue
        self.cache.fetched_at = time.monotonic()

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
        # Booking is asked once per request: a command run again after a lost race
        # decides on the answer it had.
        ask_booking = handlers.AskedOnce(
            lambda: self.booking.activate(body["order_code"], centre, kiosk_id))
        try:
            # A turn waits out a few answers of booking's (each bounded by the RPC timeout).
            with KIOSK_TURNS.turn(kiosk_id, 3 * self.settings.RPC_TIMEOUT_SECONDS):
                ticket = self.db.run(lambda uow: handlers.activate(
                    uow, ask_booking, catalogue, kiosk_id, centre, now, self.settings.policy))
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

    @every("KIOSK_HEALTH_SECONDS")
    def kiosk_health(self):
        """Every ``KIOSK_HEALTH_SECONDS``, per centre: the active kiosks
        without a heartbeat for ``KIOSK_STALE_SECONDS``, as ``asan_kiosks_not_seen`` (D-4)."""
        with self.db.connection() as conn:
            for centre, count in read_model.kiosks_not_seen(conn, self.clock(),
                                                          self.settings.stale).items():
                KIOSKS_NOT_SEEN.labels(centre).set(count)

    # --- administration of kiosks (staff of the agency) ----------------------------
    @http("POST", "/admin/kiosks")
    @once(by_body=False)
    def register(self, request):
        """Staff register a kiosk of a centre (D-5): 201 with its credential, shown once;
        404 ``unknown_centre``."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        body = read_json(request, schemas.NewKioskBody())
        centres = self._catalogue()["centres"]
        return 201, self.db.run(lambda uow: handlers.register_kiosk(uow, body["centre"], centres))

    @http("POST", "/admin/kiosks/<string:kiosk_id>/rotate")
    def rotate(self, request, kiosk_id):
        """Staff give kiosk ``kiosk_id`` a new credential; the old one stops working."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        return self.db.run(lambda uow: handlers.rotate_credential(uow, kiosk_id))

    @http("POST", "/admin/kiosks/<string:kiosk_id>/revoke")
    def revoke(self, request, kiosk_id):
        """Staff revoke kiosk ``kiosk_id``: it is refused from now on."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        return self.db.run(lambda uow: handlers.revoke_kiosk(uow, kiosk_id))

    @http("GET", "/admin/kiosks")
    def kiosks(self, request):
        """Staff see every kiosk: its centre, status, last heartbeat and wrong codes in a row."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        with self.db.connection() as conn:
            return read_model.kiosks(conn)

    # --- counters: staff desks calling tickets (issue 17 §1) -----------------------
    def _counter(self, request):
        with self.db.connection() as conn:
            return handlers.authenticate_counter(conn, request)

    def _counter_view(self, counter_id):
        with self.db.connection() as conn:
            return handlers.counter_view(conn, self._catalogue(), counter_id, self.clock(),
                                         self.settings.NO_SHOW_AFTER_RECALLS)

    def _act(self, request, outcome, act, counter=None):
        """Run the counter's ``act(uow, counter_id, now)``, observe its event and answer
        the counter's view. ``counter``: ``(counter id, centre)`` when the route has
        authenticated it already (before reading its body)."""
        counter_id, _ = counter or self._counter(request)
        # The answer names services from booking's catalogue: fetched before acting, so
        # a booking that does not answer is a 503 before anything is recorded, not after.
        self._catalogue()
        now = self.clock()
        event = self.db.run(lambda uow: act(uow, counter_id, now))
        if event is not None:
            observe(outcome, event)
        return self._counter_view(counter_id)

    @http("GET", "/counter")
    def counter(self, request):
        """The counter's page data: signed in for which services, its called ticket, who waits."""
        counter_id, _ = self._counter(request)
        return self._counter_view(counter_id)

    @http("POST", "/counter/sign-in")
    def sign_in(self, request):
        """Staff sign in at the counter for the services in the body (the centre's)."""
        counter = self._counter(request)
        body = read_json(request, schemas.SignInBody())
        catalogue = self._catalogue()
        return self._act(request, None, lambda uow, counter_id, now: handlers.sign_in(
            uow, catalogue, counter_id, body["services"], now), counter=counter)

    @http("POST", "/counter/sign-out")
    def sign_out(self, request):
        """Staff sign out (409 ``ticket_in_progress`` while a ticket is called here)."""
        return self._act(request, None, handlers.sign_out)

    @http("POST", "/counter/call-next")
    @once(by_body=False)  # the page sends a key per press: a double press, one call
    def call_next(self, request):
        """Call the next ticket of the counter's services (booked at their time first)."""
        return self._act(request, "called", handlers.call_next)

    @http("POST", "/counter/recall")
    @once(by_body=False)
    def recall(self, request):
        """Call the counter's ticket again (at most ``NO_SHOW_AFTER_RECALLS`` times)."""
        allowed = self.settings.NO_SHOW_AFTER_RECALLS
        return self._act(request, "recalled", lambda uow, counter_id, now: (
            handlers.act_on_current(uow, counter_id, domain.decide_recall, allowed, now)))

    @http("POST", "/counter/no-show")
    @once(by_body=False)
    def no_show(self, request):
        """Nobody came after the recalls: the ticket is closed unserved."""
        allowed = self.settings.NO_SHOW_AFTER_RECALLS
        return self._act(request, "no_show", lambda uow, counter_id, now: (
            handlers.act_on_current(uow, counter_id, domain.decide_no_show, allowed, now)))

    @http("POST", "/counter/transfer")
    @once(by_body=False)
    def transfer(self, request):
        """The ticket joins another service's queue at its place."""
        counter = self._counter(request)
        body = read_json(request, schemas.TransferBody())
        offered = self._catalogue()["centres"][counter[1]]["services"]
        return self._act(request, "transferred", lambda uow, counter_id, now: (
            handlers.act_on_current(uow, counter_id, domain.decide_transfer, body["service"],
                                    offered, now)), counter=counter)

    @http("POST", "/counter/served")
    @once(by_body=False)
    def served(self, request):
        """The visitor was served: the counter is free to call the next."""
        return self._act(request, "served", lambda uow, counter_id, now: (
            handlers.act_on_current(uow, counter_id, domain.decide_served, now)))

    @http("GET", "/centres/<string:centre>/board")
    def board(self, request, centre):
        """A centre's display board (public: ticket numbers and counter names only)."""
        with self.db.connection() as conn:
            return handlers.board(conn, self._catalogue(), centre, self.clock())

    # --- administration of counters ---------------------------------------------
    @http("POST", "/admin/counters")
    @once(by_body=False)
    def register_counter(self, request):
        """Staff register a counter of a centre: 201 with its credential, shown once."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        body = read_json(request, schemas.NewCounterBody())
        centres = self._catalogue()["centres"]
        return 201, self.db.run(lambda uow: handlers.register_counter(
            uow, body["centre"], body["name"], centres))

    @http("POST", "/admin/counters/<string:counter_id>/rotate")
    def rotate_counter(self, request, counter_id):
        """Staff give counter ``counter_id`` a new credential; the old one stops working."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        return self.db.run(lambda uow: handlers.rotate_counter(uow, counter_id))

    @http("POST", "/admin/counters/<string:counter_id>/revoke")
    def revoke_counter(self, request, counter_id):
        """Staff revoke counter ``counter_id``; a ticket it had called waits again."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        now = self.clock()
        return self.db.run(lambda uow: handlers.revoke_counter(uow, counter_id, now))

    @http("GET", "/admin/counters")
    def counters(self, request):
        """Staff see every counter: its centre, name, status and services."""
        require_token(request, self.settings.ADMIN_TOKEN_SHA256)
        with self.db.connection() as conn:
            return read_model.counters(conn)

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """The gateway's OpenAPI document."""
        return api.spec()
