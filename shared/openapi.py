"""OpenAPI 3 documents generated from the marshmallow schemas (apispec).

Each service describes its routes once, in ``services/<name>/api.py`` as a list of
:class:`Route`; the service serves the document at ``GET /openapi.json`` and
``python -m shared.openapi`` writes every service's into ``docs/openapi/`` (a test
checks they are current).
"""
import importlib
import json
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from .config import REPO_ROOT, SERVICES

ERROR_REF = {"$ref": "#/components/schemas/Error"}


class BilingualSchema(Schema):
    az = fields.String(required=True)
    en = fields.String(required=True)


class ReasonSchema(Schema):
    field = fields.String(allow_none=True, metadata={"description": "the form field, if any"})
    code = fields.String(required=True)
    az = fields.String(required=True)
    en = fields.String(required=True)


class ErrorSchema(Schema):
    """The one error format of every service (shared.http)."""
    error = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.Nested(BilingualSchema, required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    request: type | None = None
    response: type | None = None
    status: int = 200
    errors: tuple = (400,)
    query: type | None = None
    many: bool = False
    security: bool = False
    description: str = ""
    tags: tuple = field(default_factory=tuple)


def build_spec(title, version, description, routes):
    spec = APISpec(title=title, version=version, openapi_version="3.0.3",
                   info={"description": description}, plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", schema=ErrorSchema)
    if any(route.security for route in routes):
        spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths = {}
    for route in routes:
        operation = {"summary": route.summary, "responses": {}}
        if route.description:
            operation["description"] = route.description
        if route.tags:
            operation["tags"] = list(route.tags)
        if route.request is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": route.request}}}
        if route.query is not None:
            operation["parameters"] = [{"in": "query", "schema": route.query}]
        ok = {"description": "OK"}
        if route.response is not None:
            schema = {"type": "array", "items": route.response} if route.many else route.response
            ok["content"] = {"application/json": {"schema": schema}}
        operation["responses"][str(route.status)] = ok
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": "Refused: the reasons, in Azerbaijani and English",
                "content": {"application/json": {"schema": ERROR_REF}}}
        if route.security:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def service_spec(service):
    """The document of one service, or ``None`` if it has no ``api.py`` yet."""
    try:
        module = importlib.import_module(f"services.{service}.api")
    except ModuleNotFoundError:
        return None
    return module.spec()


def render(spec):
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main():
    folder = REPO_ROOT / "docs" / "openapi"
    folder.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        spec = service_spec(service)
        if spec is not None:
            (folder / f"{service}.json").write_text(render(spec), encoding="utf-8")
            print(f"openapi: docs/openapi/{service}.json")


if __name__ == "__main__":
    main()
