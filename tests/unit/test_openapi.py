"""The OpenAPI documents in docs/openapi/ are generated from the marshmallow schemas
and must not drift from them (`python -m shared.openapi` regenerates them)."""
import json

import pytest

from shared.config import REPO_ROOT, SERVICES
from shared.openapi import render, service_spec


DOCUMENTED = [service for service in SERVICES if service_spec(service) is not None]


def test_the_services_with_an_api_are_documented():
    assert {"booking", "notification"} <= set(DOCUMENTED)


@pytest.mark.parametrize("service", DOCUMENTED)
def test_docs_hold_the_current_document(service):
    spec = service_spec(service)
    path = REPO_ROOT / "docs" / "openapi" / f"{service}.json"
    assert path.read_text("utf-8") == render(spec), "run: python -m shared.openapi"


def test_the_booking_form_documents_every_required_field():
    spec = json.loads(render(service_spec("booking")))
    form = spec["components"]["schemas"]["BookingRequest"]
    assert set(form["required"]) == {"name", "surname", "patronymic", "id_card", "phone",
                                     "email", "service", "centre", "date", "time"}
    assert spec["components"]["schemas"]["Error"]["required"] == ["error", "message", "reasons"]


@pytest.mark.parametrize("service", DOCUMENTED)
def test_each_document_is_valid_openapi_3(service):
    """A validator rejected every templated path before its parameters were declared."""
    from openapi_spec_validator import validate

    validate(json.loads(render(service_spec(service))))


@pytest.mark.parametrize("service", DOCUMENTED)
def test_every_refusal_a_route_documents_has_its_error_names(service):
    spec = service_spec(service)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    names = response["content"]["application/json"]["schema"]["allOf"][1][
                        "properties"]["error"]["enum"]
                    assert names, (method, path, status)
