"""The event envelope (CloudEvents 1.0) and the catalogue — no servers needed."""
import json
import uuid

import pytest
from marshmallow import Schema, ValidationError, fields

from shared.vocabulary.catalog import EventCatalog, InvalidEventData, UnknownEventType
from shared.vocabulary.envelope import envelope_from_dict
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


def test_a_published_event_carries_its_sequence_and_signature_which_consumers_accept():
    """Issue 14: the relay adds both to public events; the envelope validates them.
    ``sequence`` is 20 digits (issue 23 §3), or a JSON integer in events of contract 1."""
    wire = dict(thing(CATALOG, "1").to_dict(), sequence="00000000000000000007",
                signature="eyJ..sig")
    plain = envelope_from_dict(wire)
    assert plain.data == wire["data"] and plain.id == wire["id"]
    assert envelope_from_dict(dict(wire, sequence=7)) == plain  # contract 1
    for wrong in ({"sequence": 0}, {"sequence": "7"}, {"sequence": "0" * 20},
                  {"sequence": "+0000000000000000007"}, {"sequence": True},
                  {"sequence": 7.0}, {"signature": ""}):
        with pytest.raises(ValidationError):
            envelope_from_dict(dict(wire, **wrong))


# --- versions (issue 14 §3) --------------------------------------------------------------
class ParcelSentV1(Schema):
    parcel_id = fields.String(required=True)
    weight = fields.Integer(required=True)  # grams


class ParcelSentV2(Schema):
    parcel_id = fields.String(required=True)
    weight_kg = fields.Float(required=True)  # renamed and in kilograms: a breaking change
    carrier = fields.String(required=True)   # made required: breaking too


class ParcelSentV3(Schema):
    parcel_id = fields.String(required=True)
    weight_kg = fields.Float(required=True)
    carrier = fields.String(required=True)
    tracked = fields.Boolean(required=True)


def _v1_to_v2(data):
    return {"parcel_id": data["parcel_id"], "weight_kg": data.pop("weight") / 1000,
            "carrier": "azerpoct"}


def test_a_v1_event_is_read_as_v2_through_its_upcaster():
    old = EventCatalog("post")
    old.register("ParcelSent", ParcelSentV1)
    written = old.new("ParcelSent", "parcel-1", {"parcel_id": "1", "weight": 2500},
                      str(uuid.uuid4()))
    assert written.schemaversion == 1

    new = EventCatalog("post")
    new.register("ParcelSent", ParcelSentV2, version=2, upcasters={1: _v1_to_v2})
    read = new.validate_message(envelope_from_dict(json.loads(written.to_json())))
    assert read.schemaversion == 2
    assert read.data == {"parcel_id": "1", "weight_kg": 2.5, "carrier": "azerpoct"}
    assert (read.id, read.time) == (written.id, written.time)  # the same event
    same = new.new("ParcelSent", "parcel-2",
                   {"parcel_id": "2", "weight_kg": 1.0, "carrier": "x"}, str(uuid.uuid4()))
    assert new.upcast(same) is same  # the current version passes untouched


def test_upcasters_chain_and_their_absence_or_a_newer_version_is_refused():
    chained = EventCatalog("post")
    chained.register("ParcelSent", ParcelSentV3, version=3,
                     upcasters={1: _v1_to_v2, 2: lambda data: {**data, "tracked": False}})
    v1 = EventCatalog("post")
    v1.register("ParcelSent", ParcelSentV1)
    event = v1.new("ParcelSent", "parcel-1", {"parcel_id": "1", "weight": 500},
                   str(uuid.uuid4()))
    assert chained.upcast(event).data == {"parcel_id": "1", "weight_kg": 0.5,
                                          "carrier": "azerpoct", "tracked": False}
    missing = EventCatalog("post")
    missing.register("ParcelSent", ParcelSentV3, version=3, upcasters={2: lambda d: d})
    with pytest.raises(InvalidEventData, match="no upcaster from version 1"):
        missing.upcast(event)
    newer = chained.new("ParcelSent", "parcel-3", {"parcel_id": "3", "weight_kg": 1.0,
                                                   "carrier": "x", "tracked": True},
                        str(uuid.uuid4()))
    with pytest.raises(InvalidEventData, match="newer"):
        v1.validate_message(newer)
    with pytest.raises(ValueError):
        EventCatalog("post").register("ParcelSent", ParcelSentV2, version=2,
                                      upcasters={2: _v1_to_v2})


# --- the public form as a cut of keys (issue 15) ------------------------------------
def _sample(field):
    """A valid value for one marshmallow field (validators respected) — enough to make
    an event of every registered type."""
    from marshmallow import validate as v
    for validator in getattr(field, "validators", []):
        if isinstance(validator, (v.OneOf, v.Equal)):
            return (validator.choices[0] if isinstance(validator, v.OneOf)
                    else validator.comparable)
        if isinstance(validator, v.Regexp):
            return "10:15"
    if isinstance(field, fields.Nested):
        return _sample_data(field.schema)
    if isinstance(field, fields.List):
        return [_sample(field.inner)]
    if isinstance(field, fields.UUID):
        return str(uuid.uuid4())
    if isinstance(field, fields.AwareDateTime):
        return "2026-12-01T10:15:00+04:00"
    if isinstance(field, fields.Date):
        return "2026-12-01"
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, (fields.Integer, fields.Float, fields.Number)):
        return 2
    if isinstance(field, fields.Dict):
        return {"k": "v"}
    return "AZE12345678"


def _sample_data(schema):
    return {field.data_key or name: _sample(field) for name, field in schema.fields.items()
            if not field.dump_only}


def _catalogs():
    from services.monitoring.read_model import CATALOGS
    from services.registry.events import CATALOG as REGISTRY
    return [*CATALOGS.values(), REGISTRY, CATALOG]


@pytest.mark.parametrize("event_type", [t for c in _catalogs() for t in c],
                         ids=lambda t: t.name)
def test_the_public_form_of_a_new_event_is_what_the_public_schema_makes_of_it(event_type):
    """``public_form`` cuts keys instead of running the schemas when it may: the same
    public data either way, for every event type of every service, so no private field
    can slip through the faster path."""
    catalog = next(c for c in _catalogs() if event_type.name in c
                   and c[event_type.name] is event_type)
    event = catalog.new(event_type.name, "s-1", _sample_data(event_type.schema),
                        str(uuid.uuid4()))
    assert event.checked
    expected = catalog.public_data(event_type.name, event.data)
    assert catalog.public_form(event) == expected
    assert catalog.public_form(event.with_data(event.data)) == expected  # unchecked: schemas


def test_a_public_schema_that_is_not_a_plain_cut_runs_the_schemas():
    class Inner(Schema):
        a = fields.String()
        secret = fields.String()

    class PublicInner(Schema):
        a = fields.String()

        class Meta:
            unknown = "exclude"

    class Full(Schema):
        inner = fields.Nested(Inner)

    class Public(Schema):
        inner = fields.Nested(PublicInner)

    catalog = EventCatalog("cut")
    assert catalog.register("Nested", Full, public=Public).public_keys is None
    event = catalog.new("Nested", "s", {"inner": {"a": "1", "secret": "2"}}, str(uuid.uuid4()))
    assert catalog.public_form(event) == {"inner": {"a": "1"}}
