"""Our public events as an outside system's own tools read them (D-3; issue 23 §1, §3).

- :class:`Contract`: the message schemas of ``docs/asyncapi.yaml`` applied by an
  independent JSON Schema validator (``jsonschema``; draft 7, the dialect AsyncAPI's
  schemas extend, with format checks — ``uuid``, ``date``, ``date-time`` — on), every
  ``$ref`` of the document resolved through a ``referencing`` registry holding it.
- :func:`cloudevent`: the CloudEvents Python SDK's reading of a delivered message
  (its RabbitMQ binding, structured mode).
"""
import yaml
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from shared.ops.asyncapi import DOCUMENT

BASE = "urn:asan:asyncapi"
# Draft 7's checker leaves "uuid" unchecked; the 2020-12 one checks it and the rest alike.
FORMATS = Draft202012Validator.FORMAT_CHECKER


class Contract:
    """The AsyncAPI document (text; default: the committed ``docs/asyncapi.yaml``) as a
    validator of delivered events."""

    def __init__(self, text=None):
        document = yaml.safe_load(text if text is not None else DOCUMENT.read_text("utf-8"))
        self.messages = document["components"]["messages"]
        self.registry = Registry().with_resource(
            BASE, Resource.from_contents(document, default_specification=DRAFT7))
        self._validators = {}

    def message_key(self, event):
        """``<service>.<type>``: the message of ``components/messages`` that describes
        ``event`` (a dict), by its ``source`` (``/asan/<service>``) and ``type``."""
        return f"{str(event.get('source', '')).removeprefix('/asan/')}.{event.get('type')}"

    def errors(self, event):
        """What the validator finds wrong with ``event`` (the parsed message body) against
        its message's ``payload``, one line each; [] when it conforms."""
        key = self.message_key(event)
        if key not in self.messages:
            return [f"{key}: no such message in the contract"]
        if key not in self._validators:
            self._validators[key] = Draft7Validator(
                {"$ref": f"{BASE}#/components/messages/{key}/payload"},
                registry=self.registry, format_checker=FORMATS)
        return [f"{key} {event.get('id')}: /{'/'.join(map(str, error.absolute_path))}:"
                f" {error.message}"
                for error in self._validators[key].iter_errors(event)]


def cloudevent(body, content_type="application/cloudevents+json", headers=None):
    """The CloudEvents SDK's event (``cloudevents.core.v1.event.CloudEvent``) of a message
    delivered with ``content_type`` and AMQP ``headers``; the SDK raises for a body that is
    not a CloudEvent."""
    return from_rabbitmq(RabbitMQMessage(headers={k: str(v) for k, v in (headers or {}).items()},
                                         content_type=content_type, body=body),
                         JSONFormat())
