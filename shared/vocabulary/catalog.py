"""The catalogue of a service's event types: the marshmallow schema each type's
``data`` must satisfy, its schema version, and what of it may leave the service.

An event type is registered once, in the service's ``events.py``::

    CATALOG = EventCatalog("booking")
    CATALOG.register("BookingRequested", BookingRequestedData, public=BookingRequestedPublic)

``public`` is the schema of what outside systems read (D-3): by default the whole
``data``; a narrower schema drops private fields (hashed codes, contact details);
``public=None`` keeps the type inside the service. The store validates ``data`` with
the full schema when appending, and a consumer validates the public form again when
it receives it.

Each registered type also gets its typed event classes, made from those schemas
(``shared.vocabulary.typed_events``: a misspelt field raises): ``.event`` for the full data,
which the decider builds and ``evolve`` and the service's projection read, and
``.public_event`` for the public form, which a consumer in another service reads::

    ComplaintFiled = CATALOG.register("ComplaintFiled", ComplaintFiledData,
                                      public=ComplaintFiledPublic).event

Versions (issue 14 §3; docs/EVENTS.md, "Versions"). A compatible change keeps the
version: a new optional field, a new event type, a looser rule. A breaking one — a
field removed, renamed, retyped or given another meaning, an optional field made
required — registers the type with the next ``version`` and an *upcaster* from the
previous one, ``upcasters={1: v1_to_v2}``: a function from the older ``data`` (full
or public form) to the newer. Events stay stored and published as they were written;
whoever reads one of an older version (the store, a consumer) gets it upcast, one
version at a time, to the version its code knows::

    CATALOG.register("ComplaintFiled", ComplaintFiledV2, version=2,
                     upcasters={1: lambda data: {**data, "channel": "web"}})
"""
from dataclasses import dataclass, replace

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from .envelope import Envelope, new_id, utcnow
from .typed_events import event_class


def events_exchange_name(service):
    """The public, durable topic exchange of a service; routing key = event type (D-3)."""
    return f"{service}.events"


ALL_DATA = object()


class UnknownEventType(LookupError):
    """An event type the catalogue does not know (raised by ``catalog[name]``): a consumer parks
    such a message at once."""

    pass


class InvalidEventData(ValueError):
    """An event's ``data`` that its type's schema refuses, or a version this code cannot upcast;
    ``messages`` holds marshmallow's messages (or the reason)."""

    def __init__(self, event_type, messages):
        super().__init__(f"{event_type}: {messages}")
        self.event_type = event_type
        self.messages = messages


@dataclass(frozen=True)
class EventType:
    """One registered event type: its full ``schema`` at ``version``, the ``public_schema`` of
    what leaves the service (``None``: private), and ``upcasters`` ``{older version:
    function(data) → data of the next version}``."""

    name: str
    schema: Schema
    version: int
    public_schema: Schema | None
    upcasters: dict  # older version n → function(data of n) → data of n + 1
    # The data keys of the public form when it is a plain cut of the full form (every
    # public field a flat field of the same class in the full schema): the public
    # form of normalized data is then those keys, no schema run (issue 15).
    public_keys: tuple | None = None
    # The typed event classes (shared.vocabulary.typed_events) of the full data and of the public
    # form (None for a private type).
    event: type | None = None
    public_event: type | None = None

    @property
    def is_public(self):
        """Whether the type leaves the service (published on its events exchange, D-3)."""
        return self.public_schema is not None


class EventCatalog:
    """The event types of one ``service`` (``source`` ``/asan/<service>``, published on its
    events exchange): registers them, builds and validates their envelopes, and upcasts older
    versions (see the module docstring)."""

    def __init__(self, service):
        self.service = service
        self.source = f"/asan/{service}"
        self.exchange = events_exchange_name(service)
        self._types = {}

    def register(self, name, schema, version=1, public=ALL_DATA, upcasters=None):
        """Register ``name`` at ``version`` (see the module for versions and
        ``upcasters``); ``ValueError`` if registered twice or an upcaster is for a
        version that is not older."""
        if name in self._types:
            raise ValueError(f"event type {name} registered twice")
        upcasters = dict(upcasters or {})
        if any(not 1 <= older < version for older in upcasters):
            raise ValueError(f"{name}: upcasters are from older versions than {version}")
        full = schema()
        public_schema = full if public is ALL_DATA else (public() if public else None)
        self._types[name] = EventType(
            name, full, version, public_schema, upcasters, _plain_cut(full, public_schema),
            event=event_class(name, full),
            public_event=None if public_schema is None else event_class(
                name, public_schema, suffix="Public"))
        return self._types[name]

    def read(self, name, data):
        """The typed event (the type's ``.event`` class) of ``data`` as stored:
        ``UnknownEventType`` for a type not registered, ``TypeError`` for data
        missing a required field."""
        return self[name].event.read(data)

    def read_public(self, envelope):
        """The typed public event (``.public_event``) an outside reader sees in
        ``envelope`` (a received message, validated): ``UnknownEventType`` for a type
        that is not a public event of this service."""
        public_event = self[envelope.type].public_event
        if public_event is None:
            raise UnknownEventType(f"{envelope.type} is not a public event of {self.service}")
        return public_event.read(envelope.data)

    def public_types(self):
        """The names of the types that leave the service (its public catalogue)."""
        return frozenset(t.name for t in self._types.values() if t.is_public)

    def upcast(self, envelope):
        """``envelope`` with its ``data`` at the version this code knows, through the
        upcasters from its ``schemaversion``. ``InvalidEventData`` when it is newer
        than this code (deploy the reader before the writer) or an upcaster is
        missing."""
        event_type = self[envelope.type]
        version, data = envelope.schemaversion, envelope.data
        if version > event_type.version:
            raise InvalidEventData(envelope.type, f"version {version} is newer than the"
                                   f" {event_type.version} this service knows")
        while version < event_type.version:
            if version not in event_type.upcasters:
                raise InvalidEventData(envelope.type, f"no upcaster from version {version}")
            data, version = event_type.upcasters[version](dict(data)), version + 1
        if version == envelope.schemaversion:
            return envelope
        return replace(envelope, data=data, schemaversion=version, checked=False)

    def __getitem__(self, name):
        """The :class:`EventType` registered as ``name``; ``UnknownEventType`` if none."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(f"{self.service} has no event type {name!r}") from None

    def __contains__(self, name):
        return name in self._types

    def __iter__(self):
        return iter(self._types.values())

    def normalized(self, name, data):
        """``data`` validated against the full schema, as JSON-ready primitives."""
        schema = self[name].schema
        try:
            return schema.dump(schema.load(data))
        except ValidationError as error:
            raise InvalidEventData(name, error.messages) from None

    def public_data(self, name, data):
        """What of ``data`` may leave the service, or ``None`` for a private type."""
        public_schema = self[name].public_schema
        if public_schema is None:
            return None
        return public_schema.dump(public_schema.load(data, unknown=EXCLUDE))

    def public_form(self, envelope):
        """The public ``data`` of ``envelope`` (``None`` for a private type): a cut of
        its keys when its data is known to be normalized (``envelope.checked``: made
        by :meth:`new`, or read from the store as written) and the public schema is a
        plain cut of the full one; :meth:`public_data` otherwise. Both give the same
        (tests/unit/test_envelope_and_catalog.py)."""
        event_type = self[envelope.type]
        if event_type.public_schema is None:
            return None
        if envelope.checked and event_type.public_keys is not None:
            data = envelope.data
            return {key: data[key] for key in event_type.public_keys if key in data}
        return self.public_data(envelope.type, envelope.data)

    def validate_message(self, envelope, private=False):
        """A consumer's check of a received message against the contract: the public
        schema of an event, or the full schema of a private message. Returns the
        envelope upcast to the version this code knows (see the module)."""
        event_type = self[envelope.type]
        envelope = self.upcast(envelope)
        schema = event_type.schema if private else event_type.public_schema
        if schema is None:
            raise UnknownEventType(f"{envelope.type} is not a public event of {self.service}")
        try:
            # Unknown fields are ignored: a publisher may add fields in a later version.
            schema.load(envelope.data, unknown=EXCLUDE)
        except ValidationError as error:
            raise InvalidEventData(envelope.type, error.messages) from None
        return envelope

    def new(self, name, subject, data, correlation_id, causation_id=None, event_id=None,
            time=None):
        """A new envelope of type ``name``, its data validated and normalized."""
        return Envelope(
            id=event_id or new_id(),
            type=name,
            source=self.source,
            subject=subject,
            time=time or utcnow(),
            schemaversion=self[name].version,
            correlationid=correlation_id,
            causationid=causation_id,
            data=self.normalized(name, data),
            checked=True,
        )


_NESTING = (fields.Nested, fields.List, fields.Dict, fields.Tuple, fields.Pluck)


def _plain_cut(full, public):
    """The data keys of ``public`` if each of its fields is a flat field of the same
    class, under the same key, in ``full`` (then the public form of normalized data
    is a cut of its keys); ``None`` otherwise (the schemas must run)."""
    if public is None:
        return None
    by_key = {field.data_key or name: field for name, field in full.fields.items()}
    keys = []
    for name, field in public.fields.items():
        key = field.data_key or name
        if field.load_only or isinstance(field, _NESTING):
            return None
        if type(by_key.get(key)) is not type(field):
            return None
        keys.append(key)
    return tuple(keys)
