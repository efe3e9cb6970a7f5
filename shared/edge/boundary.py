"""The one input boundary: what an HTTP request must be before any handler sees it.

Everything a client sends crosses here first (``shared.edge.http`` calls it for every
request of every service, the citizen pages included), and whatever PostgreSQL,
Python or our arithmetic could not take is refused with a 4xx in the one error
shape, with its reasons in Azerbaijani and English (non-negotiable 4):

* the URL: at most :data:`MAX_URL_BYTES` (414), valid UTF-8 once percent-decoded,
  no control characters (a NUL cannot be stored in PostgreSQL text);
* headers: no control characters in the values we read;
* the body: at most :data:`MAX_BODY_BYTES` (413); a JSON body is parsed here, once,
  refusing invalid JSON, nesting deeper than :data:`MAX_DEPTH`, numbers that are
  not finite or have more than :data:`MAX_NUMBER_DIGITS` digits, and strings with
  control characters (but tab and line breaks) or lone surrogates, which are not
  valid Unicode; a form body (the citizen pages) is checked the same way.

Handlers then read the parsed body with :func:`shared.edge.http.read_json`. Range and
format rules of single fields (dates within a century, known codes) belong to the
marshmallow schemas (``shared.vocabulary.fields``).
"""
import json
import math
import re
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException

from ..vocabulary.errors import Reason, Refusal, Text

MAX_URL_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_NUMBER_DIGITS = 15
PARSED_BODY = "asan.json"  # where the parsed JSON body waits in the WSGI environ
# The headers our handlers read; anything else is passed over.
READ_HEADERS = ("Authorization", "X-Correlation-Id", "X-Asan-Client-Address", "X-Forwarded-For",
                "Content-Type", "Cookie")

# C0 controls but tab, line feed and carriage return; DEL; lone surrogates (not
# Unicode scalar values, so not encodable as UTF-8); U+FFFE/U+FFFF (non-characters).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

TOO_LARGE = Text("too_large", "Sorğu çox böyükdür (ən çoxu 64 KB).",
                 "The request is too large (at most 64 KB).")
HEADERS_TOO_LARGE = Text("request_header_fields_too_large",
                         "Sorğunun başlıqları çox böyükdür (bir sətir ən çoxu 8 KB).",
                         "The request's headers are too large (a line at most 8 KB).")
URI_TOO_LONG = Text("uri_too_long", "Ünvan çox uzundur (ən çoxu 8 KB).",
                    "The address is too long (at most 8 KB).")
BAD_CHARACTERS = Text("invalid_characters",
                      "Sorğuda icazə verilməyən simvollar var (idarəedici simvollar və ya"
                      " düzgün olmayan Unicode).",
                      "The request contains characters that are not allowed (control"
                      " characters or invalid Unicode).")
NOT_UTF8 = Text("invalid_characters", "Mətn UTF-8 kodlaşdırmasında olmalıdır.",
                "Text must be encoded as UTF-8.")
INVALID_JSON = Text("invalid_json", "Sorğunun mətni düzgün JSON deyil.",
                    "The request body is not valid JSON.")
NOT_AN_OBJECT = Text("invalid_json", "Sorğunun mətni JSON obyekt olmalıdır ({…}).",
                     "The request body must be a JSON object ({…}).")
INCOMPLETE_BODY = Text("bad_request", "Sorğunun mətni tam və ya düzgün göndərilməyib.",
                       "The request body was cut short or malformed.")
TOO_DEEP = Text("too_deep", f"JSON ən çoxu {MAX_DEPTH} səviyyə iç-içə ola bilər.",
                f"JSON may be nested at most {MAX_DEPTH} levels deep.")
BAD_NUMBER = Text("invalid_number",
                  f"Ədədlər sonlu olmalı və ən çoxu {MAX_NUMBER_DIGITS} rəqəmdən ibarət olmalıdır.",
                  f"Numbers must be finite and have at most {MAX_NUMBER_DIGITS} digits.")


def refuse(text, field=None, status=400, error=None):
    """A boundary refusal: one reason, naming the field (a JSON path, a query
    parameter, a header) when there is one."""
    return Refusal(text, [Reason(field, text.code, text.az, text.en)], status=status,
                   error=error or text.code)


class _BadNumber(ValueError):
    pass


def _parse_int(text):
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _BadNumber(text)
    return int(text)


def _parse_float(text):
    value = float(text)
    digits = len(text.lstrip("-").split("e")[0].split("E")[0].replace(".", "").lstrip("0"))
    if not math.isfinite(value) or abs(value) >= 10 ** MAX_NUMBER_DIGITS or \
            digits > MAX_NUMBER_DIGITS + 2:
        raise _BadNumber(text)
    return value


def _no_constants(text):  # NaN, Infinity, -Infinity: not JSON, not a number we take
    raise _BadNumber(text)


def _check_text(value, field):
    if FORBIDDEN.search(value):
        raise refuse(BAD_CHARACTERS, field)


def _walk(document):
    """Every string (keys too) and the depth of ``document``, without recursion."""
    stack = [(document, None, 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise refuse(TOO_DEEP, path, error="invalid_json")
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                child = key if path is None else f"{path}.{key}"
                _check_text(key, path)
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}.{index}" if path else str(index), depth + 1))


def parse_json(raw):
    """``raw`` (bytes) as JSON, or a 400 :class:`Refusal`; an empty body is ``None``."""
    if len(raw) > MAX_BODY_BYTES:
        raise refuse(TOO_LARGE, status=413)
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse(NOT_UTF8) from None
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                              parse_constant=_no_constants)
    except _BadNumber:
        raise refuse(BAD_NUMBER, error="invalid_json") from None
    except RecursionError:
        raise refuse(TOO_DEEP, error="invalid_json") from None
    except ValueError:
        raise refuse(INVALID_JSON) from None
    _walk(document)
    return document


def check_form(raw):
    """A form body (``application/x-www-form-urlencoded``): UTF-8, no controls."""
    if len(raw) > MAX_BODY_BYTES:
        raise refuse(TOO_LARGE, status=413)
    _check_query(raw.decode("latin-1"))


def _check_query(query):
    try:
        pairs = parse_qsl(query.encode("latin-1").decode("utf-8"), keep_blank_values=True,
                          errors="strict")
    except (UnicodeError, ValueError):
        raise refuse(NOT_UTF8, "query") from None
    for name, value in pairs:
        _check_text(name, None)
        _check_text(value, name)


def check_url_and_headers(environ):
    """The URL and the headers we read, as the WSGI server handed them over."""
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    if len(environ.get("RAW_PATH_INFO", path)) + len(query) > MAX_URL_BYTES:
        raise refuse(URI_TOO_LONG, status=414)
    try:
        _check_text(path.encode("latin-1").decode("utf-8"), "path")
    except (UnicodeError, ValueError):
        raise refuse(NOT_UTF8, "path") from None
    _check_query(query)
    for name in READ_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value and FORBIDDEN.search(value):
            raise refuse(BAD_CHARACTERS, name)


def check_body(environ, request, kind):
    """Read and check the body once, before the handler: ``kind`` is ``"json"`` (the
    APIs) or ``"form"`` (the citizen pages). A JSON body is kept parsed in the
    environ for :func:`shared.edge.http.read_json`."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise refuse(TOO_LARGE, status=413)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    request.shallow = False  # nameko creates it shallow; the boundary is the one reader
    try:
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            raw = environ["wsgi.input"].read(MAX_BODY_BYTES + 1)  # eventlet decodes chunks
        else:
            raw = request.stream.read(MAX_BODY_BYTES + 1)
    except (OSError, ValueError, HTTPException):
        # A body that ends before its declared length, malformed chunks, a client gone
        # after "Expect: 100-continue": the client's doing, answered as such.
        raise refuse(INCOMPLETE_BODY, error="bad_request") from None
    # werkzeug's form parser and get_data() would read the stream again: hand them
    # the bytes read here.
    request._cached_data = raw
    if kind == "form":
        check_form(raw)
    else:
        environ[PARSED_BODY] = parse_json(raw)
