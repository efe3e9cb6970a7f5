"""Typed events: one small frozen class per event type, made from the marshmallow
schema its service registers in ``events.py`` (the public contract and the AsyncAPI
source), so each field is declared once and every reader and writer of the event —
the decider, ``evolve``, the projections, monitoring — uses that one spelling.

A misspelt field fails loudly where it is written::

    ComplaintWithdrawn(complaint_id=cid, withdrawn_at=now)   # the event
    ComplaintWithdrawn(complaint_id=cid, withdrawn=now)      # TypeError: unknown field
    ComplaintWithdrawn(complaint_id=cid)                     # TypeError: missing field
    event.withdrawn                                          # AttributeError

A field the schema declares but does not require (``allow_none``, or added later)
reads ``None`` when absent, and stays absent from :attr:`Event.data`: the stored
and published JSON is what the ``(type, data)`` dicts made before. Values are in
their JSON form (dates as ISO text, as the deciders already write them), so the
change from dicts is mechanical. An event still unpacks as the ``(event_type,
data)`` pair the event store takes: ``name, data = event``.

Pure: imports marshmallow only (a domain may import its events).
"""

_ABSENT = object()


class Event:
    """The base of the typed event classes :func:`event_class` makes. Class
    attributes: ``event_type`` (the registered name), ``declared`` (every field, in
    the schema's order) and ``required`` (those that must be given)."""

    __slots__ = ("_data",)
    event_type = None
    declared = ()
    required = frozenset()

    def __init__(self, **fields):
        unknown = sorted(set(fields) - set(self.declared))
        if unknown:
            raise TypeError(f"{self.event_type} has no field {', '.join(unknown)}"
                            f" (it has: {', '.join(self.declared)})")
        missing = sorted(self.required - set(fields))
        if missing:
            raise TypeError(f"{self.event_type} needs {', '.join(missing)}")
        object.__setattr__(self, "_data", dict(fields))

    @classmethod
    def read(cls, data):
        """The event of ``data`` as stored or received (a dict): fields a newer
        writer added and this schema does not know are left out (a consumer reads
        what its contract names); a missing required field raises ``TypeError``."""
        return cls(**{key: value for key, value in data.items() if key in cls.declared})

    def __getattr__(self, name):
        # Only reached for names that are not set slots or class attributes: the fields.
        if name in type(self).declared and not name.startswith("_"):
            value = self._data.get(name, _ABSENT)
            return None if value is _ABSENT else value
        raise AttributeError(f"{self.event_type} has no field {name!r}"
                             f" (it has: {', '.join(self.declared)})")

    def __setattr__(self, name, value):
        raise AttributeError(f"{self.event_type} is immutable")

    @property
    def data(self):
        """The event's data as stored and published: the fields given, as given."""
        return dict(self._data)

    def __iter__(self):
        """``(event_type, data)``: what ``UnitOfWork.record`` and the stores take."""
        return iter((self.event_type, self.data))

    def __eq__(self, other):
        if isinstance(other, Event):
            return (self.event_type, self._data) == (other.event_type, other._data)
        if isinstance(other, tuple):
            return (self.event_type, self._data) == other
        return NotImplemented

    __hash__ = None  # data holds dicts and lists

    def __repr__(self):
        given = ", ".join(f"{key}={value!r}" for key, value in getattr(self, "_data", {}).items())
        return f"{self.event_type}({given})"


def event_class(name, schema, suffix=""):
    """A subclass of :class:`Event` named ``name + suffix`` for the event type
    ``name`` whose data ``schema`` (a marshmallow ``Schema`` instance) describes."""
    declared = tuple(field.data_key or key for key, field in schema.fields.items()
                     if not field.dump_only)
    required = frozenset(field.data_key or key for key, field in schema.fields.items()
                         if field.required)
    return type(name + suffix, (Event,), {"__slots__": (), "event_type": name,
                                          "declared": declared, "required": required,
                                          "__doc__": type(schema).__doc__})
