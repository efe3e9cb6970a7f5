"""OpenAPI 3 documents generated from the marshmallow schemas (apispec).

Each service describes its routes once, in ``services/<name>/api.py`` as a list of
:class:`Route`; the service serves the document at ``GET /openapi.json`` and
``python -m shared.edge.openapi`` writes every service's into ``docs/openapi/`` (a test
checks they are current).
"""
import importlib
import json
import re
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from ..runtime.config import REPO_ROOT, SERVICES

ERROR_REF = {"$ref": "#/components/schemas/Error"}


class BilingualSchema(Schema):
    """A message in both languages, ``{az, en}``, as in every error body
    (``shared.vocabulary.errors``)."""

    az = fields.String(required=True)
    en = fields.String(required=True)


class ReasonSchema(Schema):
    """One reason of a refusal, ``{field, code, az, en}`` (Q-5: every reason named)."""

    field = fields.String(allow_none=True, metadata={"description": "the form field, if any"})
    code = fields.String(required=True)
    az = fields.String(required=True)
    en = fields.String(required=True)


class ErrorSchema(Schema):
    """The one error format of every service (shared.edge.http)."""
    error = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.Nested(BilingualSchema, required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)


# Error names every route can answer, whatever it does: the input boundary
# (shared.edge.boundary), a neighbour that does not answer and overload (shared.edge.http).
COMMON_ERRORS = {400: ("invalid_characters", "bad_request"), 414: ("uri_too_long",),
                 431: ("request_header_fields_too_large",)}
# ... and every route but the probes (``Route.unbounded``) when the service has more
# requests in hand than it takes, or a neighbour does not answer.
OVERLOAD_ERRORS = {503: ("unavailable",)}
# ... and every route that takes a JSON body.
BODY_ERRORS = {400: ("invalid_json",), 413: ("too_large",)}
# ... and every creating route (``@once``) whose repeat comes while the first is handled.
ONCE_ERRORS = {409: ("in_progress",)}
# ... and every route with a path parameter, for a value the router cannot take (even
# a ``path`` converter takes no line break).
PATH_ERRORS = {404: ("not_found",)}
SECURED_ERRORS = {401: ("unauthorized",)}
# A command run by ServiceDatabase.run that lost its race every time. (Its other
# answer, 409 ``already_exists`` for a key still taken when the command runs again,
# is named by the one route whose test shows it: no other command inserts under a key
# it has not checked or made fresh.)
COMMAND_ERRORS = {409: ("busy",)}
ERROR_DESCRIPTIONS = {
    400: "Refused: the reasons, in Azerbaijani and English", 401: "No valid token",
    404: "Not found", 409: "Refused by the state of things", 410: "Gone",
    413: "The body is over 64 KB", 414: "The URL is over 8 KB", 431: "Headers too large",
    422: "Refused: the confirmation code", 429: "Too many requests: wait Retry-After seconds",
    503: "A neighbour (the database, another service) did not answer, or the service has"
         " more requests in hand than it takes (HTTP_MAX_PENDING): try again after Retry-After",
}


@dataclass(frozen=True)
class Route:
    """One operation of a service's HTTP API.

    ``errors``: ``{status: (error name, …)}``, the names of ``shared.vocabulary.errors.Refusal``
    this route answers besides those every route can (``COMMON_ERRORS``, and
    ``BODY_ERRORS`` when it takes a ``request`` body, ``SECURED_ERRORS`` when
    ``security``, ``COMMAND_ERRORS`` when ``command``: its request runs a command
    through ``ServiceDatabase.run`` and says when that lost its races, ``PATH_ERRORS``
    when it has path parameters). A contract test holds the documents to what the
    services answer, per operation (tests/contract.py). ``params``: the OpenAPI
    schema of each ``{path parameter}`` (default: a string). ``once``: the route is
    ``@once`` (``shared.edge.idempotency``): a repeat gets the first answer.
    ``unbounded``: a probe answered however many requests the service has in hand
    (``shared.edge.http.UNBOUNDED_ROUTES``): no 503 ``unavailable`` for overload
    (``OVERLOAD_ERRORS``) unless ``errors`` names it for another reason."""
    method: str
    path: str
    summary: str
    request: type | None = None
    response: type | None = None
    status: int = 200
    errors: dict = field(default_factory=dict)
    query: type | None = None
    many: bool = False
    security: bool = False
    command: bool = False
    description: str = ""
    tags: tuple = field(default_factory=tuple)
    params: dict = field(default_factory=dict)
    deprecated: bool = False
    once: bool = False
    unbounded: bool = False

    def error_names(self):
        """``{status: sorted names}`` of everything this route may refuse with."""
        merged = {}
        extra = [COMMON_ERRORS, self.errors]
        if not self.unbounded:
            extra.append(OVERLOAD_ERRORS)
        if self.request is not None:
            extra.append(BODY_ERRORS)
        if self.security:
            extra.append(SECURED_ERRORS)
        if self.command:
            extra.append(COMMAND_ERRORS)
        if self.once:
            extra.append(ONCE_ERRORS)
        if "{" in self.path:
            extra.append(PATH_ERRORS)
        for errors in extra:
            for status, names in errors.items():
                merged.setdefault(int(status), set()).update(names)
        return {status: sorted(names) for status, names in sorted(merged.items())}

    def path_parameters(self):
        """The OpenAPI parameter objects of the path's ``{name}`` placeholders, each of the
        schema in ``params`` (default: a string)."""
        return [{"in": "path", "name": name, "required": True,
                 "schema": self.params.get(name, {"type": "string"})}
                for name in re.findall(r"{([a-z_]+)}", self.path)]


UUID_PARAM = {"type": "string", "format": "uuid"}


class HealthChecksSchema(Schema):
    """What ``GET /health`` checked."""
    database = fields.String(metadata={"description": "ok, or down"})


class HealthSchema(Schema):
    """``GET /health``: ready when the service's own database answers."""
    service = fields.String(required=True)
    status = fields.String(required=True, metadata={"example": "ok"})
    checks = fields.Nested(HealthChecksSchema, required=True)


class LiveSchema(Schema):
    """``GET /live``: the process answers."""
    service = fields.String(required=True)
    status = fields.String(required=True, metadata={"example": "live"})


class PublicJwkSchema(Schema):
    """One public key that verifies the service's events (RFC 7517, RFC 8037: OKP, Ed25519)."""
    kty = fields.String(required=True, metadata={"example": "OKP"})
    crv = fields.String(metadata={"example": "Ed25519"})
    x = fields.String(metadata={"description": "the public key, base64url"})
    kid = fields.String(required=True)
    use = fields.String(metadata={"example": "sig"})
    alg = fields.String()


class JwksSchema(Schema):
    """A JSON Web Key Set (RFC 7517): the active and retired keys, never a revoked one."""
    keys = fields.List(fields.Nested(PublicJwkSchema), required=True)


# What every service serves besides its own API (shared.edge.platform, and each service's
# GET /openapi.json): public, for load balancers, probes and subscribers.
PLATFORM_ROUTES = [
    Route("GET", "/health", "Ready: the service's own database answers", response=HealthSchema,
          tags=("platform",), unbounded=True),
    Route("GET", "/live", "Alive: the process answers (no dependency is touched)",
          response=LiveSchema, tags=("platform",), unbounded=True),
    Route("GET", "/.well-known/jwks.json",
          "The public keys that verify this service's signed events (docs/EVENTS.md)",
          response=JwksSchema, tags=("platform",),
          description="A JWKS (RFC 7517), served as `application/jwk-set+json` and "
                      "cacheable for five minutes; read at each request, so a rotation "
                      "shows at once."),
    Route("GET", "/openapi.json", "This document", tags=("platform",)),
]
MEDIA_TYPES = {"/.well-known/jwks.json": "application/jwk-set+json"}
# Relative: where the document was fetched from (its GET /openapi.json).
SERVER = {"url": "/", "description": "the service itself: locally "
          "http://127.0.0.1:<its port> (deploy/env.sh); behind deploy/nginx/asan.conf the "
          "public routes under /api/<service>/"}


def _error_schema(names):
    return {"allOf": [ERROR_REF, {"type": "object", "properties": {
        "error": {"type": "string", "enum": list(names)}}}]}


def build_spec(title, version, description, routes):
    """The OpenAPI 3.0.3 document (a ``dict``) of ``routes`` (:class:`Route`), with the shared
    ``Error`` schema and, per operation, every error name it may answer by status; a
    ``bearer`` security scheme when a route is secured, ``security: []`` on every public
    operation; and the routes every service serves (``PLATFORM_ROUTES``)."""
    spec = APISpec(title=title, version=version, openapi_version="3.0.3",
                   info={"description": description}, plugins=[MarshmallowPlugin()],
                   servers=[SERVER])
    spec.components.schema("Error", schema=ErrorSchema)
    if any(route.security for route in routes):
        spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths = {}
    for route in [*routes, *PLATFORM_ROUTES]:
        operation = {"summary": route.summary, "responses": {},
                     "operationId": _operation_id(route)}
        if route.description:
            operation["description"] = route.description
        if route.tags:
            operation["tags"] = list(route.tags)
        if route.deprecated:
            operation["deprecated"] = True
        if route.request is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": route.request}}}
        parameters = route.path_parameters()
        if route.query is not None:
            parameters.append({"in": "query", "schema": route.query})
        if parameters:
            operation["parameters"] = parameters
        ok = {"description": "OK"}
        if route.response is not None:
            schema = {"type": "array", "items": route.response} if route.many else route.response
            ok["content"] = {MEDIA_TYPES.get(route.path, "application/json"): {"schema": schema}}
        elif route.path == "/openapi.json":
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        if route.status < 400:
            operation["responses"][str(route.status)] = ok
        for status, names in route.error_names().items():
            operation["responses"][str(status)] = {
                "description": ERROR_DESCRIPTIONS.get(status, "Refused") + ". error: "
                + ", ".join(names),
                "content": {"application/json": {"schema": _error_schema(names)}}}
        # Public operations say so: no token (an absent key reads as "not declared").
        operation["security"] = [{"bearer": []}] if route.security else []
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation_id(route):
    words = re.findall(r"[a-z]+", route.path.lower())
    return "_".join([route.method.lower(), *words]) or route.method.lower()


def service_spec(service):
    """The document of one service, or ``None`` if it has no ``api.py`` yet."""
    try:
        module = importlib.import_module(f"services.{service}.api")
    except ModuleNotFoundError:
        return None
    return module.spec()


def render(spec):
    """``spec`` as stable JSON text: keys sorted, indented, non-ASCII kept, a final newline."""
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main():
    """``python -m shared.edge.openapi``: writes ``docs/openapi/<service>.json`` for every service
    with an ``api.py``."""
    folder = REPO_ROOT / "docs" / "openapi"
    folder.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        spec = service_spec(service)
        if spec is not None:
            (folder / f"{service}.json").write_text(render(spec), encoding="utf-8")
            print(f"openapi: docs/openapi/{service}.json")


if __name__ == "__main__":
    main()
