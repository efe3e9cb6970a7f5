"""HTTP for nameko services: JSON in and out, and the one place where errors become
responses.

Every error body has one shape (see ``shared.errors``). A refusal is a 4xx with its
reasons in Azerbaijani and English; anything unexpected is logged with its traceback
and answered with a 500 that gives away nothing but the correlation id.
"""
import json
import logging
import uuid
from functools import partial

from eventlet.event import Event
from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .errors import Refusal, Text, ValidationFailed, reasons_from_marshmallow

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"
MAX_BODY_BYTES = 64 * 1024
JSON = "application/json; charset=utf-8"


def json_response(payload, status=200, headers=None):
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status=status, headers=headers, content_type=JSON)


def _correlation_id(request):
    given = request.headers.get(CORRELATION_HEADER, "")
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())


def _refusal_for_http_error(exc):
    error = exc.name.lower().replace(" ", "_")
    messages_az = {404: "Belə ünvan yoxdur.", 405: "Bu ünvan üçün bu metod qəbul edilmir."}
    message = Text(error, messages_az.get(exc.code, exc.name), exc.name)
    return Refusal(message, status=exc.code, error=error)


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, answering unknown URLs and methods in our JSON format."""

    def __call__(self, environ, start_response):
        adapter = self.url_map.bind_to_environ(environ)
        try:
            adapter.match()
        except HTTPException as exc:
            if exc.code and exc.code >= 400:
                refusal = _refusal_for_http_error(exc)
                response = json_response(refusal.as_dict(), exc.code)
                response.headers[CORRELATION_HEADER] = str(uuid.uuid4())
                return response(environ, start_response)
        return super().__call__(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class JsonHttp(HttpRequestHandler):
    """``@http`` that accepts ``dict``/``list`` results (sent as JSON) and maps
    exceptions through :meth:`response_from_exception`."""

    server = JsonWebServer()

    def __init__(self, method, url, expected_exceptions=(), **kwargs):
        # A refusal is an answer, not a fault: nameko logs it as expected.
        expected = tuple(expected_exceptions) if isinstance(expected_exceptions, (tuple, list)) \
            else (expected_exceptions,)
        super().__init__(method, url, expected_exceptions=expected + (Refusal, ValidationError),
                         **kwargs)

    def handle_request(self, request):
        request.shallow = False
        correlation_id = _correlation_id(request)
        try:
            context_data = self.server.context_data_from_headers(request)
            context_data["correlation_id"] = correlation_id
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, event))
            response = self.response_from_result(event.wait())
        except Exception as exc:  # noqa: BLE001 - mapped to a response, never raised
            response = self.response_from_exception(exc, correlation_id)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response

    def response_from_result(self, result):
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
        if isinstance(exc, ValidationError):
            exc = ValidationFailed(reasons_from_marshmallow(exc.messages))
        if isinstance(exc, Refusal):
            return json_response(exc.as_dict(), exc.status, exc.headers)
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            return json_response(_refusal_for_http_error(exc).as_dict(), exc.code)
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__),
                  extra={"correlation_id": correlation_id})
        message = Text("internal_error",
                       "Daxili xəta baş verdi. Zəhmət olmasa bir az sonra yenidən cəhd edin.",
                       "An internal error occurred. Please try again a little later.")
        body = Refusal(message, status=500, error="internal_error").as_dict()
        body["correlation_id"] = correlation_id
        return json_response(body, 500)


http = JsonHttp.decorator


def read_json(request, schema=None, partial=False):
    """Parse the request body as JSON and load it with ``schema`` (a marshmallow
    ``Schema`` instance), or return the object as it is when there is none. Every
    problem becomes a :class:`ValidationFailed` listing all the reasons at once."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise Refusal(Text("too_large", "Sorğu çox böyükdür.", "The request is too large."),
                      status=413, error="too_large")
    raw = request.get_data(cache=False, as_text=False)[:MAX_BODY_BYTES + 1]
    if len(raw) > MAX_BODY_BYTES:
        raise Refusal(Text("too_large", "Sorğu çox böyükdür.", "The request is too large."),
                      status=413, error="too_large")
    try:
        payload = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(Text("invalid_json", "Sorğunun mətni düzgün JSON deyil.",
                           "The request body is not valid JSON."), error="invalid_json") from None
    if not isinstance(payload, dict):
        raise Refusal(Text("invalid_json", "Sorğunun mətni JSON obyekt olmalıdır.",
                           "The request body must be a JSON object."), error="invalid_json")
    if schema is None:
        return payload
    try:
        return schema.load(payload, partial=partial)
    except ValidationError as error:
        raise ValidationFailed(reasons_from_marshmallow(error.messages)) from None
