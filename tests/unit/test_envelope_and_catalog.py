"""The event envelope (CloudEvents 1.0) and the catalogue — no servers needed."""
import json
import uuid

import pytest
from marshmallow import ValidationError

from shared.catalog import InvalidEventData, UnknownEventType
from shared.envelope import envelope_from_dict
from tests.demo import CATALOG, thing


def test_an_envelope_is_a_structured_cloudevent_with_our_extensions():
    event = thing(CATALOG, "42", 3, secret="x")
    wire = json.loads(event.to_json())
    assert wire["specversion"] == "1.0"
    assert wire["type"] == "ThingHappened" and wire["source"] == "/asan/demo"
    assert wire["subject"] == "thing-42"
    assert uuid.UUID(wire["id"]) and uuid.UUID(wire["correlationid"])
    assert wire["schemaversion"] == 1 and wire["datacontenttype"] == "application/json"
    assert wire["time"].endswith("+00:00")
    assert envelope_from_dict(wire) == event


@pytest.mark.parametrize("field, value", [
    ("specversion", "0.3"), ("id", "not-a-uuid"), ("time", "2026-01-01T10:00:00"),
    ("schemaversion", "1"), ("data", "text"), ("correlationid", None),
])
def test_a_malformed_envelope_is_refused(field, value):
    wire = thing(CATALOG, "1").to_dict()
    wire[field] = value
    with pytest.raises(ValidationError):
        envelope_from_dict(wire)


def test_data_is_validated_against_the_type_schema():
    with pytest.raises(InvalidEventData) as error:
        CATALOG.normalized("ThingHappened", {"thing_id": "1", "amount": "many"})
    assert "amount" in error.value.messages
    with pytest.raises(UnknownEventType):
        CATALOG.normalized("NoSuchThing", {})


def test_the_public_form_leaves_private_fields_out():
    data = CATALOG.normalized("ThingHappened", {"thing_id": "1", "amount": 2, "secret": "s"})
    assert CATALOG.public_data("ThingHappened", data) == {"thing_id": "1", "amount": 2}
    assert CATALOG.public_data("ThingNoted", {"thing_id": "1", "amount": 2}) is None


def test_a_consumer_ignores_fields_added_by_a_later_version_but_not_wrong_ones():
    event = thing(CATALOG, "1", 2)
    CATALOG.validate_message(event.with_data({"thing_id": "1", "amount": 2, "new": True}))
    with pytest.raises(InvalidEventData):
        CATALOG.validate_message(event.with_data({"thing_id": "1"}))
