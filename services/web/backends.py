"""The web pages' only way to the platform: the services' public HTTP APIs, called
server-side with ``requests`` (green under ``nameko run``'s eventlet monkey patch).

Booking, the registry and complaints serve citizens: the pages call them with their
own token and the citizen's address (F-5, issue 12). The kiosk gateway serves the
counters and the display boards (issue 17 §2): a counter's calls carry that counter's
own token, the board's none (the board is public)."""
import time
from urllib.parse import quote

import requests
from nameko.extensions import DependencyProvider

from shared.edge.clients import CLIENT_HEADER, peer_address
from shared.edge.http import CORRELATION_HEADER

from .settings import WebSettings

REFERENCE_TTL_SECONDS = 300
# A board's answer is shared this long by every screen and phone showing that board
# through this process: the gateway reads a board at most twice a second per process,
# however many watch it (a public page must not let viewers multiply its reads), and a
# new call still shows within 2 s (board.js asks every second).
BOARD_TTL_SECONDS = 0.5
# The services that know the pages' token (FRONTEND_TOKEN_SHA256) and count citizens.
CITIZEN_SERVICES = ("booking", "registry", "complaints")
SERVICES = CITIZEN_SERVICES + ("kiosk_gateway",)


class Unavailable(Exception):
    """A service did not answer, or answered with a fault (5xx) rather than a refusal."""


class Answer:
    """One answer of a backend service: its HTTP status, JSON body and ``Retry-After``
    (seconds, or None)."""
    def __init__(self, status, body, retry_after=None):
        self.status, self.body, self.retry_after = status, body, retry_after

    @property
    def ok(self):
        """A 2xx answer."""
        return 200 <= self.status < 300

    @property
    def refused(self):
        """A 4xx answer: the backend refused what the citizen sent (its reasons are shown)."""
        return 400 <= self.status < 500


class Client:
    """The pages' HTTP client of the backend services (booking, registry, complaints,
    kiosk gateway):
    forwards the citizen's address with the pages' token, the correlation id, a timeout
    (seconds) and a short cache of reference data; a backend that does not answer in time
    is an :class:`Answer` 503."""
    def __init__(self, urls, timeout, correlation_id, cache, frontend_token=None,
                 proxy_hops=0):
        self.urls, self.timeout, self.cache = urls, timeout, cache
        self.frontend_token, self.proxy_hops = frontend_token, proxy_hops
        self.headers = {CORRELATION_HEADER: correlation_id} if correlation_id else {}
        self.citizen = None
        self.retry_after = None  # of the last 429: the page says it to the browser too

    def on_behalf_of(self, request):
        """Every call of this page is for the citizen who sent ``request``: the pages
        ask for many citizens from one address, so they forward each one's address
        with their token, and the services' limits (F-5, issue 12) and audit (F-6)
        count each citizen, not the pages as one client."""
        self.citizen = peer_address(request, self.proxy_hops)

    def call(self, service, method, route, json=None, params=None, path=None, token=None,
             headers=None):
        """``method route`` of ``service``'s API. ``route`` is a template whose
        ``{names}`` are filled from ``path``, each value quoted as one path segment
        (what a citizen typed can never walk to another route: ``../../metrics``
        stays one segment). ``token``: a device's own credential (a counter's, issue 17),
        sent as ``Authorization: Bearer`` instead of the pages' token; the caller checks
        its characters (:func:`services.web.counter.clean_token`); ``headers``: more
        headers checked by the caller (``Idempotency-Key``). Raises
        :class:`Unavailable` on no answer or a 5xx; the message names the route, never
        the values (they may be personal data or a secret)."""
        url = self.urls[service] + route.format(
            **{name: quote(str(value), safe="") for name, value in (path or {}).items()})
        headers = dict(self.headers, **(headers or {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self.citizen and self.frontend_token and service in CITIZEN_SERVICES:
            headers["Authorization"] = f"Bearer {self.frontend_token}"
            headers[CLIENT_HEADER] = self.citizen
        try:
            response = requests.request(method, url, json=json, params=params, headers=headers,
                                        timeout=self.timeout)
            body = response.json()
        except (requests.RequestException, ValueError) as error:
            raise Unavailable(f"{service} {method} {route}: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise Unavailable(f"{service} {method} {route}: HTTP {response.status_code}")
        answer = Answer(response.status_code, body, response.headers.get("Retry-After"))
        if answer.status == 429:
            self.retry_after = answer.retry_after
        return answer

    def reference(self):
        """Booking's services and centres, kept a few minutes: they rarely change."""
        cached = self.cache.get("reference")
        if cached and cached[0] > time.monotonic():
            return cached[1]
        services = self.call("booking", "GET", "/services")
        centres = self.call("booking", "GET", "/centres")
        if not (services.ok and centres.ok):
            raise Unavailable("booking reference data")
        reference = {"services": services.body, "centres": centres.body}
        self.cache["reference"] = (time.monotonic() + REFERENCE_TTL_SECONDS, reference)
        return reference


    def board(self, centre):
        """The kiosk gateway's board of ``centre`` (an :class:`Answer`), shared for
        :data:`BOARD_TTL_SECONDS`. Only boards of real centres are kept (a few dozen),
        never a refusal: codes made up by a visitor cannot fill the memory."""
        key = ("board", centre)
        cached = self.cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        answer = self.call("kiosk_gateway", "GET", "/centres/{centre}/board",
                           path={"centre": centre})
        if answer.ok:
            self.cache[key] = (time.monotonic() + BOARD_TTL_SECONDS, answer)
        return answer


class Backends(DependencyProvider):
    """The backend URLs, timeout and token, from config; a :class:`Client` per worker."""
    def setup(self):
        """Read ``BOOKING_URL``, ``REGISTRY_URL``, ``COMPLAINTS_URL``,
        ``KIOSK_GATEWAY_URL`` and the client settings."""
        settings = WebSettings.from_config(self.container.config)
        self.urls = {name: getattr(settings, f"{name.upper()}_URL").rstrip("/")
                     for name in SERVICES}
        self.timeout = settings.BACKEND_TIMEOUT_SECONDS
        self.cache = {}
        self.frontend_token = settings.FRONTEND_TOKEN
        self.proxy_hops = settings.WEB_PROXY_HOPS

    def get_dependency(self, worker_ctx):
        """A :class:`Client` carrying this request's correlation id."""
        return Client(self.urls, self.timeout, worker_ctx.context_data.get("correlation_id"),
                      self.cache, self.frontend_token, self.proxy_hops)
