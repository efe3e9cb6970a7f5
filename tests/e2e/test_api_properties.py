"""Never a 500 for anything a client sends (non-negotiable 4, issue 12 §1): property-
based tests of every running service, driven by its published OpenAPI document.

schemathesis generates requests from docs/openapi/<service>.json — valid ones and
invalid ones (wrong types, missing fields, strings with NUL and other control
characters, huge numbers, odd Unicode, unknown path values) — sends them to the
running service, and checks each answer: never a 5xx, a status the document lists
for the operation, and a body of the documented shape (for a refusal: the one error
shape with its error name among those the document lists, and every reason in
Azerbaijani and English). A few hundred cases per API.
"""
import json
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.runtime.config import REPO_ROOT, service_config
from tests.citizens import CLIENT_HEADER, FRONTEND_TOKEN

pytestmark = pytest.mark.e2e
CASES_PER_API = 300  # a few hundred generated requests per API, however many operations
TOKENS = {"booking": "operator-dev-token", "notification": "operator-dev-token",
          "kiosk_gateway": "admin-dev-token",
          "registry": "registry-dev-token", "complaints": "complaints-dev-token",
          "monitoring": "monitoring-dev-token"}
API_SERVICES = ("booking", "notification", "kiosk_gateway", "registry", "complaints",
                "monitoring")


def _schema(service):
    schema = schemathesis.openapi.from_path(REPO_ROOT / "docs" / "openapi" / f"{service}.json")
    schema.config.update(base_url="http://" + service_config(service)["WEB_SERVER_ADDRESS"],
                         request_timeout=30)
    operations = sum(len(methods) for methods in schema.raw_schema["paths"].values())
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=max(25, CASES_PER_API // (2 * operations)),
                                    allow_x00=True)
    return schema


def bilingual_reasons(ctx: CheckContext, response, case):
    """Every refusal lists at least one reason, each in Azerbaijani and English."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert body["reasons"], f"a {response.status_code} without reasons: {body}"
    for reason in body["reasons"]:
        assert reason["az"].strip() and reason["en"].strip(), reason
    assert body["message"]["az"].strip() and body["message"]["en"].strip()
    return None


CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, bilingual_reasons)


def _test(service):
    schema = _schema(service)

    @schema.parametrize()
    @settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def test(case):
        if case.operation.definition.raw.get("security"):  # [] declares a public one
            headers = {"Authorization": f"Bearer {TOKENS[service]}"}
        else:  # each case a citizen of its own: the abuse limits stay out of the way
            headers = {"Authorization": f"Bearer {FRONTEND_TOKEN}",
                       CLIENT_HEADER: f"198.19.{random.randrange(256)}.{random.randrange(1, 256)}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
    return test


test_booking_api = _test("booking")
test_notification_api = _test("notification")
test_kiosk_gateway_api = _test("kiosk_gateway")
test_registry_api = _test("registry")
test_complaints_api = _test("complaints")
test_monitoring_api = _test("monitoring")
