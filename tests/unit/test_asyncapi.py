"""The published contract of our events (D-3, issue 14 §3): docs/asyncapi.yaml is the
document generated from the event catalogues (never stale), and it is a valid AsyncAPI
3.0 document by the AsyncAPI Initiative's own parser (deploy/schema-check, installed
by make test's setup)."""
import json
import shutil
import subprocess

import yaml

from shared.ops import asyncapi
from shared.runtime.config import REPO_ROOT

SCHEMA_CHECK = REPO_ROOT / "deploy" / "schema-check"


def test_the_committed_document_is_the_generated_one():
    assert asyncapi.DOCUMENT.read_text("utf-8") == asyncapi.render(), \
        "run: python -m shared.ops.asyncapi"


def test_it_is_valid_asyncapi_3_by_the_asyncapi_parser():
    node = shutil.which("node")
    assert node, "node missing: deploy/bin/setup installs it"
    assert (SCHEMA_CHECK / "node_modules" / "@asyncapi" / "parser").is_dir(), \
        "deploy/bin/setup installs deploy/schema-check's packages"
    result = subprocess.run([node, str(SCHEMA_CHECK / "asyncapi.mjs"), str(asyncapi.DOCUMENT)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"parsed": True, "version": "3.0.0"}


def test_every_public_event_type_is_in_it_with_its_data_schema_and_no_private_one():
    from services.booking import events as booking
    from services.registry import events as registry

    doc = yaml.safe_load(asyncapi.DOCUMENT.read_text("utf-8"))
    messages = doc["components"]["messages"]
    requested = messages["booking.BookingRequested"]["payload"]["allOf"][1]["properties"]
    assert set(requested["data"]["properties"]) == set(booking.BookingRequestedPublic().fields)
    assert "applicant" not in requested["data"]["properties"]  # private: never published
    for catalog in (booking.CATALOG, registry.CATALOG):
        for event_type in catalog:
            key = f"{catalog.service}.{event_type.name}"
            assert (key in messages) == event_type.is_public, key
    assert doc["channels"]["bookingEventStream"]["address"] == "booking.events.stream"
    envelope = doc["components"]["schemas"]["Envelope"]["properties"]
    assert {"sequence", "signature", "schemaversion"} <= set(envelope)
