"""The OpenAPI documents in docs/openapi/ are generated from the marshmallow schemas
and must not drift from them (`python -m shared.edge.openapi` regenerates them)."""
import json
import os
import shutil
import subprocess

import pytest

from shared.runtime.config import REPO_ROOT, SERVICES
from shared.edge.openapi import render, service_spec


DOCUMENTED = [service for service in SERVICES if service_spec(service) is not None]


def test_the_services_with_an_api_are_documented():
    assert {"booking", "notification"} <= set(DOCUMENTED)


@pytest.mark.parametrize("service", DOCUMENTED)
def test_docs_hold_the_current_document(service):
    spec = service_spec(service)
    path = REPO_ROOT / "docs" / "openapi" / f"{service}.json"
    assert path.read_text("utf-8") == render(spec), "run: python -m shared.edge.openapi"


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


SCHEMA_CHECK = REPO_ROOT / "deploy" / "schema-check"


def test_redocly_finds_no_error_in_any_document():
    """An independent linter (Redocly CLI, pinned in deploy/schema-check) with its
    recommended rules: every operation declares its security (``[]`` when public), and
    each document names its server."""
    node = shutil.which("node")
    assert node, "node missing: deploy/bin/setup installs it"
    cli = SCHEMA_CHECK / "node_modules" / "@redocly" / "cli" / "bin" / "cli.js"
    assert cli.is_file(), "deploy/bin/setup installs deploy/schema-check's packages"
    documents = [str(REPO_ROOT / "docs" / "openapi" / f"{service}.json")
                 for service in DOCUMENTED]
    result = subprocess.run([node, str(cli), "lint", "--extends", "recommended",
                             "--format", "json", *documents], cwd=SCHEMA_CHECK,
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, REDOCLY_TELEMETRY="off",
                                     REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
    reports, text, decoder = [], result.stdout, json.JSONDecoder()
    while "{" in text:  # one JSON report per document
        report, end = decoder.raw_decode(text[text.index("{"):])
        reports.append(report)
        text = text[text.index("{") + end:]
    assert len(reports) == len(documents), result.stdout[-2000:]
    errors = [(p["ruleId"], p["message"], [loc.get("pointer") for loc in p["location"]])
              for report in reports for p in report["problems"] if p["severity"] == "error"]
    assert errors == [], errors
    assert sum(report["totals"]["errors"] for report in reports) == 0
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("service", DOCUMENTED)
def test_every_document_has_what_every_service_serves_and_says_who_may_call(service):
    spec = service_spec(service)
    paths = spec["paths"]
    for path in ("/health", "/live", "/openapi.json", "/.well-known/jwks.json"):
        assert paths[path]["get"]["security"] == [], path
    assert "application/jwk-set+json" in \
        paths["/.well-known/jwks.json"]["get"]["responses"]["200"]["content"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert "security" in operation, (method, path)
            if operation["security"]:
                assert operation["security"] == [{"bearer": []}]
                assert "401" in operation["responses"], (method, path)


def test_a_bookings_email_states_are_staff_only_in_the_document():
    operation = service_spec("notification")["paths"]["/emails/{reference}"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert "call centre" in operation["description"]
