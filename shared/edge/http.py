"""HTTP for nameko services: JSON in and out, the input boundary, and the one place
where errors become responses.

Every request crosses :mod:`shared.edge.boundary` before a handler runs; every error body
of every port has one shape (see ``shared.vocabulary.errors``): a refusal is a 4xx with its
reasons in Azerbaijani and English; a neighbour that does not answer (the database,
another service) is a 503 with a bilingual "try again"; anything unexpected is logged
with its traceback and answered with a 500 that gives away nothing but the
correlation id. Even the WSGI server's own refusals (a request line over 8 KB, a
header line too long) are sent in that shape.

Overload is answered, not queued without end (issue 15 §5): the listening socket's
backlog holds a burst of connections (``HTTP_LISTEN_BACKLOG``, 1024; the kernel caps
it at ``net.core.somaxconn``), and a request arriving while ``HTTP_MAX_PENDING``
requests are already being handled or waiting for a worker is answered at once with
503 ``unavailable`` (``Retry-After: 1``, ``Connection: close``) instead of waiting
seconds behind them; a kept-alive connection idle for ``HTTP_KEEPALIVE_SECONDS`` is
closed. Numbers and why: docs/OPERATIONS.md, "Bursts and overload".

The access log is ours too: one JSON line per request with the *route* (the URL
template, ``/bookings/{booking_id}/confirm``), never the path or query a client
typed, so no identifier a client puts in a URL reaches a log.
"""
import gc
import json
import logging
import re
import time
import uuid
from functools import partial
from http import HTTPStatus

import psycopg
import eventlet
from eventlet.event import Event
from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import boundary
from ..vocabulary.errors import (Conflict, Gone, NotFound, Reason, Refusal, Rejected, Text,
                                 TooManyRequests, Unauthorized, Unavailable, ValidationFailed,
                                 reasons_from_marshmallow)
from ..runtime.eventstore import ConcurrencyError
from ..runtime.metrics import ENTRYPOINT_CALLS
from ..runtime.settings import setting

log = logging.getLogger(__name__)
access_log = logging.getLogger("shared.edge.http.access")

CORRELATION_HEADER = "X-Correlation-Id"
CORRELATION_ENVIRON = "asan.correlation_id"
PROTOCOL_ENVIRON = "asan.protocol"
MAX_BODY_BYTES = boundary.MAX_BODY_BYTES
JSON = "application/json; charset=utf-8"
INTERNAL_ERROR = Text("internal_error",
                      "Daxili xəta baş verdi. Zəhmət olmasa bir az sonra yenidən cəhd edin.",
                      "An internal error occurred. Please try again a little later.")
BUSY = Text("busy", "Eyni anda bu məlumat üzərində başqa sorğu işlənir; bir azdan yenidən"
            " cəhd edin.", "Another request changed the same record at the same moment; please"
            " try again.")
STOPPING = Text("unavailable", "Bu nüsxə dayanır; sorğunu yenidən göndərin.",
                "This instance is stopping; please send the request again.")
OVERLOADED = Text("overloaded", "Xidmət hazırda çox sorğu alır; bir saniyədən sonra yenidən"
                  " cəhd edin.", "The service is receiving too many requests right now; please"
                  " try again in a second.")
# Probes are answered even when the service is overloaded: a busy instance is alive,
# and restarting it would only make things worse.
UNBOUNDED_ROUTES = frozenset(("/live", "/health", "/metrics"))
# A neighbour that did not answer: the request may simply be sent again.
UNAVAILABLE_ERRORS = (psycopg.OperationalError, PoolTimeout)


def json_response(payload, status=200, headers=None):
    """A JSON ``Response`` (UTF-8, non-ASCII kept as is; dates and UUIDs as strings) of
    ``payload`` with ``status`` and optional extra ``headers``."""
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status=status, headers=headers, content_type=JSON)


def _correlation_id(environ):
    if CORRELATION_ENVIRON not in environ:
        given = environ.get("HTTP_X_CORRELATION_ID", "")
        try:
            environ[CORRELATION_ENVIRON] = str(uuid.UUID(given))
        except ValueError:
            environ[CORRELATION_ENVIRON] = str(uuid.uuid4())
    return environ[CORRELATION_ENVIRON]


_HTTP_ERROR_AZ = {404: "Belə ünvan yoxdur.", 405: "Bu ünvan üçün bu metod qəbul edilmir.",
                  400: "Sorğu düzgün deyil.", 414: boundary.URI_TOO_LONG.az,
                  408: "Sorğu vaxtında tam göndərilmədi.", 411: "Sorğunun uzunluğu göstərilməyib.",
                  413: boundary.TOO_LARGE.az, 431: "Sorğunun başlıqları çox böyükdür.",
                  505: "Bu HTTP versiyası dəstəklənmir.", 501: "Bu metod dəstəklənmir."}


def _refusal_for_http_error(code, name):
    """What the HTTP layer itself refuses (an unknown URL, a wrong method, a malformed
    request), named by its status: ``not_found``, ``method_not_allowed``…"""
    error = name.lower().replace(" ", "_")
    az = _HTTP_ERROR_AZ.get(code, "Sorğu qəbul edilmədi.")
    return Refusal(Text(error, az, name), status=code, error=error)


def refusal_body(refusal, correlation_id=None):
    """The bytes of ``refusal``'s JSON error body ``{error, message: {az, en}, reasons…}``
    (shape: ``shared.vocabulary.errors``), with ``correlation_id`` when given."""
    body = refusal.as_dict()
    if correlation_id:
        body["correlation_id"] = correlation_id
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class _JsonErrorsOut:
    """The connection's output, with eventlet's canned error answers (bare status
    lines with empty bodies) replaced by the same answers in our JSON shape."""

    CANNED = {
        b"HTTP/1.0 414 Request URI Too Long": (414, boundary.URI_TOO_LONG),
        b"HTTP/1.0 400 Header Line Too Long": (431, boundary.HEADERS_TOO_LARGE),
        b"HTTP/1.0 400 Headers Too Large": (431, boundary.HEADERS_TOO_LARGE),
        b"HTTP/1.0 400 Bad Request": (400, Text("bad_request", "Sorğu düzgün deyil.",
                                                "The request is malformed.")),
    }

    def __init__(self, out):
        self._out = out

    def write(self, data):
        if isinstance(data, bytes) and data.startswith(b"HTTP/1.0 4"):
            for prefix, (status, text) in self.CANNED.items():
                if data.startswith(prefix):
                    data = _raw_response(status, boundary.refuse(text, status=status))
                    break
        return self._out.write(data)

    def __getattr__(self, name):
        return getattr(self._out, name)


def _raw_response(status, refusal, reason_phrase=""):
    body = refusal_body(refusal)
    return (f"HTTP/1.0 {status} {reason_phrase}\r\nContent-Type: {JSON}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class JsonProtocol(HttpOnlyProtocol):
    """eventlet's HTTP protocol, answering malformed requests in our JSON shape."""

    def get_environ(self):
        """The WSGI environ of the request, carrying this protocol object so that an answer can
        close the connection."""
        environ = super().get_environ()
        environ[PROTOCOL_ENVIRON] = self  # so that an answer can close its connection
        return environ

    def setup(self):
        """Wraps the connection's output so eventlet's canned error answers go out in our JSON
        shape."""
        super().setup()
        self.wfile = _JsonErrorsOut(self.wfile)

    def send_error(self, code, message=None, explain=None):
        """Answers an error the HTTP server itself found (a malformed request, a line too long)
        with status ``code`` and our JSON refusal body, then closes the connection.
        ``message`` and ``explain`` (http.server's) are not sent: the body is ours."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Bad Request"
        refusal = _refusal_for_http_error(code, phrase)
        body = refusal_body(refusal)
        if not self.request_version.startswith("HTTP/1"):
            self.request_version = "HTTP/1.0"  # so that the status line is written
        self.send_response(code, message)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app behind the input boundary, answering unknown URLs and
    methods in our JSON format, with our access log."""

    def __call__(self, environ, start_response):
        """The WSGI entrypoint: routes the request through the boundary and the overload bound
        to its handler, answers any unexpected error with a 500 that names only the
        correlation id, and logs one access-log line ``{method, route, status,
        correlation_id, ms}``."""
        started = time.perf_counter()
        correlation_id = _correlation_id(environ)
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        route = "-"
        try:
            try:
                response, route = self._respond(environ, correlation_id)
            except Exception as exc:  # never eventlet's bare 500
                log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__),
                          extra={"correlation_id": correlation_id})
                ENTRYPOINT_CALLS.labels(self.server.container.service_name, "wsgi",
                                        "error").inc()
                response = json_response(dict(Refusal(INTERNAL_ERROR, status=500).as_dict(),
                                              correlation_id=correlation_id), 500)
            return response(environ, recording_start_response)
        finally:
            access_log.info("request", extra={
                "method": environ.get("REQUEST_METHOD"), "route": route,
                "status": seen.get("status"), "correlation_id": correlation_id,
                "ms": round((time.perf_counter() - started) * 1000, 1)})

    def _respond(self, environ, correlation_id):
        if self.server.stopping:  # a kept-alive connection's next request: elsewhere
            return _closing(environ, _error_response(Unavailable(STOPPING), correlation_id)), "-"
        request = Request(environ, shallow=True)
        try:
            boundary.check_url_and_headers(environ)
            adapter = self.url_map.bind_to_environ(environ)
            provider, values = adapter.match()
        except Refusal as refusal:
            return _error_response(refusal, correlation_id), "-"
        except HTTPException as exc:
            if exc.code and exc.code >= 400:
                return _error_response(_refusal_for_http_error(exc.code, exc.name),
                                       correlation_id), "-"
            return exc, "-"
        route = provider.route_template
        if route in UNBOUNDED_ROUTES:
            return self._handle(provider, request, values, environ, correlation_id), route
        server = self.server
        if server.pending >= server.max_pending:
            server.shed += 1
            return _closing(environ, _error_response(Unavailable(OVERLOADED, retry_after=1),
                                                     correlation_id)), route
        server.pending += 1
        try:
            return self._handle(provider, request, values, environ, correlation_id), route
        finally:
            server.pending -= 1

    def _handle(self, provider, request, values, environ, correlation_id):
        try:
            boundary.check_body(environ, request, provider.accepts)
        except Refusal as refusal:
            return _error_response(refusal, correlation_id)
        request.path_values = values
        return provider.handle_request(request)


def _closing(environ, response):
    """``response``, after which the server closes the connection (eventlet writes
    ``Connection: close`` then; a header of ours alone would not close it)."""
    protocol = environ.get(PROTOCOL_ENVIRON)
    if protocol is not None:
        protocol.close_connection = 1
    else:
        response.headers["Connection"] = "close"
    return response


def _error_response(refusal, correlation_id):
    response = json_response(refusal.as_dict(), status_of(refusal), refusal.headers)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


class JsonWebServer(WebServer):
    """nameko's web server, which on a graceful stop stops *taking* work first.

    nameko closes its listening socket only after every worker has finished, and keeps
    accepting (and starting workers for) new requests until then. On SIGTERM (the
    first entrypoint told to stop) this server closes its socket at once — new
    connections are refused, so a load balancer or the kernel (SO_REUSEPORT) sends
    them to another instance — while requests in flight finish and get their answer;
    a further request on a kept-alive connection is answered 503 with
    ``Connection: close``."""

    stopping = False
    pending = 0  # requests being handled or waiting for a worker (see JsonWsgiApp)
    shed = 0  # requests answered 503 at once because ``pending`` was at its bound
    max_pending = None  # HTTP_MAX_PENDING, set by start()

    def start(self):
        """nameko's start, with a listening backlog that holds a burst of connections
        (eventlet's default, 50, made the kernel drop the rest: clients then retried
        after 1, 3, 7 s, or gave up)."""
        if self._starting:
            return
        config = self.container.config
        self.max_pending = max_pending(config)
        self._starting = True
        self._sock = eventlet.listen(self.bind_addr, backlog=listen_backlog(config))
        self._sock.settimeout(None)  # nameko's work-around of kombu issue 838
        self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
        self._gt = self.container.spawn_managed_thread(self.run)
        freeze_startup_objects()

    def stop_accepting(self):
        """Closes the listening socket so new connections go to another instance, while requests
        in flight finish (graceful stop on SIGTERM); idempotent."""
        if self.stopping or self._gt is None:
            return
        self.stopping = True
        self._is_accepting = False
        self._gt.kill()  # the accept loop (a GreenletExit, not an error)
        self._sock.close()
        log.info("stopped accepting connections; finishing the requests in flight")

    def get_wsgi_app(self):
        """The WSGI app: :class:`JsonWsgiApp`."""
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonProtocol, debug=False):
        """eventlet's WSGI server on ``sock`` with our JSON protocol, no raw access log (ours
        logs the route) and an idle keep-alive of ``HTTP_KEEPALIVE_SECONDS`` (0 or less:
        none)."""
        from eventlet import wsgi

        # log_output=False: eventlet's access log prints the raw request line (paths
        # and queries as typed); JsonWsgiApp logs the route instead.
        # keepalive (seconds): how long a kept-alive connection may sit idle between
        # requests before it is closed, so idle clients do not hold sockets forever.
        keepalive = setting(self.container.config, "HTTP_KEEPALIVE_SECONDS", float)
        return wsgi.Server(sock, sock.getsockname(), wsgi_app, protocol=protocol, debug=debug,
                           log=logging.getLogger("nameko.web.server"), log_output=False,
                           keepalive=keepalive if keepalive > 0 else False)


_frozen = False


def freeze_startup_objects():
    """Keep what start-up built (modules, reference data, the service's extensions,
    some 100,000 objects) out of the garbage collector's full passes, once per process.

    A full pass scans every object and holds the whole process — every request in
    flight, and on the way a transaction that holds a lock others wait for: measured
    here 50-75 ms each, a few times a minute under load (issue 15 §5). These objects
    live as long as the process, so scanning them finds nothing; after the freeze a
    full pass scans only what was made since (about 1 ms)."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


def listen_backlog(config):
    """``HTTP_LISTEN_BACKLOG``: connections the kernel completes and queues for
    the accept loop. Linux silently caps it at ``net.core.somaxconn`` (4096 since
    kernel 5.4, 128 before: then raise it, or the cap is logged here at start)."""
    backlog = setting(config, "HTTP_LISTEN_BACKLOG", int)
    try:
        with open("/proc/sys/net/core/somaxconn") as limit:
            somaxconn = int(limit.read())
    except (OSError, ValueError):
        return backlog
    if backlog > somaxconn:
        log.warning("HTTP_LISTEN_BACKLOG %d is above net.core.somaxconn %d: the kernel"
                    " uses %d", backlog, somaxconn, somaxconn)
    return backlog


def max_pending(config):
    """``HTTP_MAX_PENDING``: requests handled at once, in a worker or waiting for one,
    beyond which a request is answered 503 at once (at least 1). Each ``config.yaml``
    sets it to about 5 × ``max_workers``, a queue a worker pool drains in well under a
    second or two at this platform's request times."""
    return max(1, setting(config, "HTTP_MAX_PENDING", int))


class JsonHttp(HttpRequestHandler):
    """``@http`` that accepts ``dict``/``list`` results (sent as JSON) and maps
    exceptions through :meth:`response_from_exception`.

    ``accepts``: what a request body may be, checked by the boundary before the
    handler runs: ``"json"`` (the APIs) or ``"form"`` (the citizen pages)."""

    server = JsonWebServer()

    def __init__(self, method, url, expected_exceptions=(), accepts="json", **kwargs):
        # A refusal is an answer, not a fault: nameko logs it as expected.
        expected = tuple(expected_exceptions) if isinstance(expected_exceptions, (tuple, list)) \
            else (expected_exceptions,)
        super().__init__(method, url, expected_exceptions=expected + (Refusal, ValidationError),
                         **kwargs)
        self.accepts = accepts

    def stop(self):
        """The first sign of a graceful stop: stop taking connections (see
        :class:`JsonWebServer`), then let nameko finish the workers."""
        self.server.stop_accepting()
        super().stop()

    @property
    def route_template(self):
        """``/bookings/<uuid:booking_id>/confirm`` as ``/bookings/{booking_id}/confirm``."""
        return _template(self.url)

    def handle_request(self, request):
        """Runs the handler in a worker and returns its answer as a ``Response``; any exception
        becomes a response through :meth:`response_from_exception`, never escapes. The
        response carries ``X-Correlation-ID``."""
        request.shallow = False
        correlation_id = _correlation_id(request.environ)
        try:
            context_data = self.server.context_data_from_headers(request)
            context_data["correlation_id"] = correlation_id
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, event))
            response = self.response_from_result(event.wait())
        except Exception as exc:  # mapped to a response, never raised
            response = self.response_from_exception(exc, correlation_id)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response

    def response_from_result(self, result):
        """The handler's result as a ``Response``: a ``Response`` as is, or ``payload``,
        ``(status, payload)`` or ``(status, headers, payload)``; a ``dict``/``list`` payload
        is sent as JSON."""
        if isinstance(result, Response):
            return result
        status, headers, payload = 200, None, result
        if isinstance(result, tuple):
            if len(result) == 3:
                status, headers, payload = result
            else:
                status, payload = result
        if isinstance(payload, (dict, list)):
            return json_response(payload, status, headers)
        return Response(payload, status=status, headers=headers)

    def response_from_exception(self, exc, correlation_id=None):
        """The answer to ``exc``: a refusal (a validation error, a ``Refusal``, an unavailable
        neighbour) with its status from :func:`status_of`; anything else is logged with its
        traceback and answered 500 ``internal_error`` with only the correlation id."""
        refusal = as_refusal(exc)
        if refusal is not None:
            return json_response(refusal.as_dict(), status_of(refusal), refusal.headers)
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__),
                  extra={"correlation_id": correlation_id})
        body = Refusal(INTERNAL_ERROR, status=500, error="internal_error").as_dict()
        body["correlation_id"] = correlation_id
        return json_response(body, 500)


# The one place a kind of refusal becomes an HTTP status (issue 16: domain code raises
# plain refusals; shared.vocabulary.errors).
STATUS_OF = {ValidationFailed: 400, Unauthorized: 401, NotFound: 404,
             Conflict: 409, Gone: 410, Rejected: 422, TooManyRequests: 429, Unavailable: 503}


def status_of(refusal):
    """The HTTP status of ``refusal``: the one the HTTP layer named for it, else its
    kind's (:data:`STATUS_OF`, the nearest class up its ancestry), else 400."""
    if refusal.status:
        return refusal.status
    for kind in type(refusal).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def as_refusal(exc):
    """The refusal ``exc`` amounts to, or ``None`` for a fault of ours (a 500)."""
    if isinstance(exc, ValidationError):
        return ValidationFailed(reasons_from_marshmallow(exc.messages))
    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, UNAVAILABLE_ERRORS):
        log.warning("a neighbour did not answer: %s", type(exc).__name__)
        return Unavailable()
    if isinstance(exc, ConcurrencyError):
        # Only reached where a command was not run by ServiceDatabase.run.
        return Refusal(BUSY, status=409, error="busy")
    if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        return _refusal_for_http_error(exc.code, exc.name)
    return None


def _template(url):
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", url)


http = JsonHttp.decorator


def read_json(request, schema=None, partial=False):
    """The request's JSON object (parsed and checked once by the boundary), loaded
    with ``schema`` (a marshmallow ``Schema`` instance) when one is given. Every
    problem becomes a :class:`ValidationFailed` listing all the reasons at once."""
    environ = request.environ
    if boundary.PARSED_BODY in environ:
        payload = environ[boundary.PARSED_BODY]
    else:  # not through JsonWsgiApp (a direct call): the same checks, here
        payload = boundary.parse_json(request.get_data(cache=True)[:MAX_BODY_BYTES + 1])
    if not isinstance(payload, dict):
        raise Refusal(boundary.NOT_AN_OBJECT, [Reason(None, "invalid_json",
                                                      boundary.NOT_AN_OBJECT.az,
                                                      boundary.NOT_AN_OBJECT.en)],
                      error="invalid_json")
    if schema is None:
        return payload
    try:
        return schema.load(payload, partial=partial)
    except ValidationError as error:
        raise ValidationFailed(reasons_from_marshmallow(error.messages)) from None
