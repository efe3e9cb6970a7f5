"""The one envelope for everything that leaves a service: CloudEvents 1.0,
structured JSON mode, plus our extension attributes.

Extension attributes (CloudEvents requires lower-case alphanumeric names):
``schemaversion`` (the version of the ``data`` schema of this ``type``),
``correlationid`` (the user request that started it all) and ``causationid``
(the event or command that directly caused this one). On the way out the relay adds
two more to every *public* event (issue 14): ``sequence``, the gap-free number of the
event among its service's public events, and ``signature``, its JWS (always the last
member; ``shared.ops.signing``). A consumer validates them when present; they are not
part of the event as stored.

``sequence`` is the CloudEvents Sequence extension: a string whose lexicographic
order is the publication order, here the number in :data:`SEQUENCE_DIGITS` decimal
digits with leading zeros (``"00000000000000000042"``; :func:`format_sequence`).
Events of contract 1 (docs/EVENTS.md, "Contract versions") carry it as a JSON
integer: they stay in the streams for their retention, and a relay still writes that
form while ``EVENT_SEQUENCE_FORMAT`` is ``integer``; :func:`sequence_number` reads
both.
"""
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate

from .clock import utcnow  # noqa: F401 - re-exported for the catalogue

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
# Every number a bigint column (public_sequence.last) can hold, and any 64-bit one.
SEQUENCE_DIGITS = 20
SEQUENCE_FORMATS = ("string", "integer")  # contract 2 (CloudEvents), contract 1


def format_sequence(number, form="string"):
    """The ``sequence`` attribute of the ``number``-th public event (int >= 1): in
    ``form`` "string" the CloudEvents Sequence extension's lexicographically ordered
    string of :data:`SEQUENCE_DIGITS` digits, in ``form`` "integer" the number itself
    (contract 1). ``ValueError`` for a number out of range or an unknown form."""
    if form not in SEQUENCE_FORMATS:
        raise ValueError(f"a sequence format is one of {SEQUENCE_FORMATS}, not {form!r}")
    if isinstance(number, bool) or not isinstance(number, int) \
            or not 1 <= number < 10 ** SEQUENCE_DIGITS:
        raise ValueError(f"a sequence number is an int from 1 to {SEQUENCE_DIGITS} digits")
    return f"{number:0{SEQUENCE_DIGITS}d}" if form == "string" else number


def sequence_number(value):
    """The number (int >= 1) that an event's ``sequence`` attribute carries, in either form:
    :data:`SEQUENCE_DIGITS` decimal digits (contract 2) or a JSON integer (contract 1).
    ``ValueError`` for anything else (another width, a sign, a bool, a float, 0)."""
    if isinstance(value, str):
        if len(value) != SEQUENCE_DIGITS or not (value.isascii() and value.isdigit()):
            raise ValueError(f"a sequence is {SEQUENCE_DIGITS} decimal digits")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError("a sequence is a string of digits (or an integer, contract 1)")
    if number < 1:
        raise ValueError("a sequence starts at 1")
    return number


def new_id():
    """A new event or message id: a random UUID (version 4) as a string."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Envelope:
    """One CloudEvents 1.0 event (structured JSON mode) with our extension attributes
    ``schemaversion``, ``correlationid`` and ``causationid`` (see the module docstring).
    ``time`` is timezone-aware UTC; ``subject`` is the stream (aggregate) id; ``source`` is
    ``/asan/<service>``."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    schemaversion: int
    correlationid: str
    data: dict = field(default_factory=dict)
    causationid: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = "application/json"
    # True when ``data`` is the catalogue's validated, normalized form (made by
    # ``EventCatalog.new``): the event store then does not validate it a second time
    # (issue 15: that was 8.5 % of the booking service's CPU). Not part of the message.
    checked: bool = field(default=False, compare=False, repr=False)

    def with_data(self, data):
        """The same envelope with other ``data``, which nothing has validated yet."""
        return replace(self, data=data, checked=False)

    def to_dict(self):
        """The envelope as a JSON-ready ``dict`` of CloudEvents attributes (``time`` in RFC
        3339), as it is stored and published."""
        return _ENVELOPE_SCHEMA.dump(self)

    def to_json(self):
        """The envelope as compact JSON text (UTF-8 characters kept as they are)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


class Sequence(fields.Field):
    """The ``sequence`` attribute, loaded in either form as its number (int; see
    :func:`sequence_number`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return sequence_number(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class EnvelopeSchema(Schema):
    """Validates an envelope as it arrives from the broker (``load``) and renders it
    for the wire (``dump``)."""

    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    time = fields.AwareDateTime(required=True, format="iso")
    datacontenttype = fields.String(required=True, validate=validate.Equal("application/json"))
    schemaversion = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    correlationid = fields.UUID(required=True)
    causationid = fields.UUID(load_default=None, allow_none=True)
    data = fields.Dict(required=True)
    # Added by the relay to public events (see the module); not kept in Envelope.
    sequence = Sequence(load_only=True)
    signature = fields.String(validate=validate.Length(min=1, max=2000), load_only=True)

    class Meta:
        ordered = True


# One instance, made once: building a marshmallow schema costs more than loading an
# envelope with it (~0.5 ms against ~0.1 ms), and a consumer parses every message.
# A schema keeps no state between loads or dumps.
_ENVELOPE_SCHEMA = EnvelopeSchema()


def envelope_from_dict(payload):
    """Parse and validate a structured CloudEvent; raises ``ValidationError``."""
    if not isinstance(payload, dict):
        raise ValidationError("a CloudEvent in structured mode is a JSON object")
    loaded = _ENVELOPE_SCHEMA.load(payload)
    loaded.pop("sequence", None)
    loaded.pop("signature", None)
    loaded["id"] = str(loaded["id"])
    loaded["correlationid"] = str(loaded["correlationid"])
    if loaded.get("causationid") is not None:
        loaded["causationid"] = str(loaded["causationid"])
    return Envelope(**loaded)
