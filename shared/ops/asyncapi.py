"""The published contract of our events (D-3): an AsyncAPI 3.0 document
generated from the event catalogues, never written by hand.

    python -m shared.ops.asyncapi            # writes docs/asyncapi.yaml

For every service with public events: its topic exchange ``<service>.events``
(routing key = event type) and its stream ``<service>.events.stream`` (every public
event, in order, retained for replay), the operation a subscriber performs on each,
and one message per public event type — the CloudEvents envelope with our extension
attributes, and the ``data`` schema of that type as its catalogue's public marshmallow
schema says (apispec turns marshmallow into JSON Schema). A test regenerates the
document and fails when the committed one is stale, a well-kept parser
(``@asyncapi/parser``) validates it, and a JSON Schema validator (``jsonschema``)
checks real events against their message (tests/event_contract.py).

``data`` schemas allow members they do not list: a later schema version of the same
type may add optional fields (docs/EVENTS.md, "Versions").
"""
import importlib
from pathlib import Path

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..runtime.amqp import events_exchange_name, stream_name
from ..runtime.config import REPO_ROOT, SERVICES
from ..vocabulary.envelope import CONTENT_TYPE, SEQUENCE_DIGITS

DOCUMENT = REPO_ROOT / "docs" / "asyncapi.yaml"
# The contract's version (docs/EVENTS.md, "Contract versions"): the major one changes
# when the envelope does in a way a subscriber's code notices (2: ``sequence`` a string).
VERSION = "2.0.0"


def _converter():
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)  # inline nesting
    # AsyncAPI schemas are JSON Schema: apispec writes a field that may be null as
    # JSON Schema does (``type: [string, 'null']``) only for OpenAPI 3.1; for 3.0 it
    # writes OpenAPI's own ``nullable``, which a JSON Schema validator ignores and so
    # refuses every null (issue 23 §1).
    APISpec("asyncapi", VERSION, "3.1.0", plugins=[plugin])
    return plugin.converter


def _open(schema):
    """A JSON Schema of ``data`` that tolerates members added by later versions."""
    schema = dict(schema)
    schema.pop("additionalProperties", None)
    for name, prop in list(schema.get("properties", {}).items()):
        if prop.get("type") == "object" or "properties" in prop:
            schema["properties"][name] = _open(prop)
    return schema


ENVELOPE = {
    "type": "object",
    "description": "CloudEvents 1.0, structured JSON mode, with our extension attributes.",
    "required": ["specversion", "id", "type", "source", "subject", "time", "datacontenttype",
                 "schemaversion", "correlationid", "sequence", "signature", "data"],
    "properties": {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {"type": "string", "format": "uuid",
               "description": "unique per event; a redelivery carries the same id"},
        "type": {"type": "string", "description": "the event type (= the routing key)"},
        "source": {"type": "string", "description": "/asan/<service>"},
        "subject": {"type": "string", "description": "the stream (aggregate) of the event"},
        "time": {"type": "string", "format": "date-time",
                 "description": "when the event was recorded"},
        "datacontenttype": {"type": "string", "const": "application/json"},
        "schemaversion": {"type": "integer", "minimum": 1,
                          "description": "the version of this type's data schema"},
        "correlationid": {"type": "string", "format": "uuid",
                          "description": "the request that started it all"},
        "causationid": {"type": ["string", "null"], "format": "uuid",
                        "description": "the event or command that caused this one"},
        "sequence": {
            "description": "the CloudEvents Sequence extension: the event's place among its"
                           " service's public events, gap-free from 1 in publication (commit)"
                           " order, in 20 decimal digits with leading zeros, so that two compare"
                           " as strings as they do as numbers (\"00000000000000000009\" <"
                           " \"00000000000000000010\"); its integer value is the number: a"
                           " subscriber that sees 1, 2, 3 … missed nothing. Contract 1 (before"
                           " 2.0.0, and while EVENT_SEQUENCE_FORMAT is integer) wrote the"
                           " number as a JSON integer; the streams keep such events for their"
                           " retention (docs/EVENTS.md, Contract versions)",
            "oneOf": [{"type": "string", "pattern": f"^[0-9]{{{SEQUENCE_DIGITS}}}$"},
                      {"type": "integer", "minimum": 1, "deprecated": True}]},
        "signature": {"type": "string",
                      "description": "JWS (RFC 7515, EdDSA/Ed25519) with a detached payload:"
                                     " the event's JSON text without this member, which is"
                                     " always the last; keys at the service's"
                                     " /.well-known/jwks.json (docs/EVENTS.md, Signatures)"},
    },
}


def _message(service, event_type, converter):
    data = _open(converter.schema2jsonschema(event_type.public_schema))
    return {
        "name": event_type.name,
        "title": f"{service}: {event_type.name}",
        "contentType": CONTENT_TYPE,
        "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {
            "type": "object", "properties": {
                "type": {"const": event_type.name},
                "schemaversion": {"const": event_type.version},
                "data": data}}]},
        "bindings": {"amqp": {"messageType": event_type.name, "contentEncoding": "utf-8",
                              "bindingVersion": "0.3.0"}},
    }


def document():
    """The AsyncAPI document, as a dict."""
    converter = _converter()
    channels, operations, messages = {}, {}, {}
    for service in SERVICES:
        catalog = importlib.import_module(f"services.{service}.events").CATALOG
        public = [event_type for event_type in catalog if event_type.is_public]
        if not public:
            continue
        refs = {}
        for event_type in public:
            key = f"{service}.{event_type.name}"
            messages[key] = _message(service, event_type, converter)
            refs[event_type.name] = {"$ref": f"#/components/messages/{key}"}
        exchange, stream = events_exchange_name(service), stream_name(service)
        channels[f"{service}Events"] = {
            "address": exchange, "messages": refs,
            "description": f"The public events of {service}, live: bind a queue of yours"
                           " (sub.<name>.…) with routing key = event type, or #.",
            "bindings": {"amqp": {"is": "routingKey", "bindingVersion": "0.3.0", "exchange": {
                "name": exchange, "type": "topic", "durable": True, "autoDelete": False,
                "vhost": "/"}}}}
        channels[f"{service}EventStream"] = {
            "address": stream, "messages": refs,
            "description": f"Every public event of {service}, in order, kept for replay: read"
                           " from the first retained event, an offset or a time"
                           " (x-stream-offset), then live.",
            "bindings": {"amqp": {"is": "queue", "bindingVersion": "0.3.0", "queue": {
                "name": stream, "durable": True, "exclusive": False, "autoDelete": False,
                "vhost": "/"}}}}
        for channel in (f"{service}Events", f"{service}EventStream"):
            operations[f"receive{channel[0].upper()}{channel[1:]}"] = {
                "action": "receive", "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}
                             for name in refs],
                "security": [{"$ref": "#/components/securitySchemes/subscriberAccount"}]}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ASAN xidmət backbone — public events",
            "version": VERSION,
            "description": "What other government systems read (D-3): every service's public"
                           " events, live on a topic exchange and kept on a stream for"
                           " replay; CloudEvents 1.0 envelopes, signed (Ed25519 JWS), with a"
                           " gap-free per-service sequence (the CloudEvents Sequence"
                           " extension: a string that sorts). Version 2.0.0: `sequence` is a"
                           " string of 20 digits, no longer a JSON integer (contract 1). Generated"
                           " from the event catalogues by `python -m shared.ops.asyncapi`; see"
                           " docs/EVENTS.md.",
            "x-jwks": {service: f"/.well-known/jwks.json on the {service} service's HTTP API"
                       for service in SERVICES},
        },
        "servers": {
            "production": {
                "host": "rabbitmq.asan.gov.az:5671", "protocol": "amqps",
                "description": "AMQP 0-9-1 over TLS; an account per subscriber"
                               " (python -m shared.ops.subscribers add NAME).",
                "security": [{"$ref": "#/components/securitySchemes/subscriberAccount"},
                             {"$ref": "#/components/securitySchemes/clientCertificate"}]},
            "local": {
                "host": "127.0.0.1:27672", "protocol": "amqp",
                "description": "make run's broker (deploy/env.sh)",
                "security": [{"$ref": "#/components/securitySchemes/subscriberAccount"}]},
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {"Envelope": ENVELOPE},
            "messages": messages,
            "securitySchemes": {
                "subscriberAccount": {
                    "type": "userPassword",
                    "description": "the account `python -m shared.ops.subscribers add NAME` prints"
                                   " once: it may declare and consume queues named"
                                   " sub.NAME.…, bind them to *.events exchanges and read the"
                                   " *.events.stream streams, nothing else"},
                "clientCertificate": {"type": "X509",
                                      "description": "TLS client certificates, if required"},
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Every mapping written out where it stands: no YAML anchors and aliases."""

    def ignore_aliases(self, data):
        return True


def render(doc=None):
    """The AsyncAPI 3.0 document ``doc`` (default: :func:`document`) as YAML text, keys in their
    order, non-ASCII kept, lines up to 100 characters."""
    return yaml.dump(doc or document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100)


def main():
    """``python -m shared.ops.asyncapi``: writes ``docs/asyncapi.yaml``."""
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"asyncapi: {Path(DOCUMENT).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
