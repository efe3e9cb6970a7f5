"""The event types of the registry (its public contract).

Changes to the personal data are events of the registry's own store and never leave
it (FINs, names and document numbers are personal data): ``public=None``. What
leaves is the audit of each query without any of it (F-6: ``FinQueriedPublic``; the
full record stays in the log), and the fact of an import.

Each type's fields are declared once, in its schema; the typed classes below are made
from them (``shared.vocabulary.typed_events``) and are what the decider builds and ``evolve``
and the projection read.
"""
from marshmallow import Schema, fields, validate

from shared.vocabulary.catalog import EventCatalog

OUTCOMES = ("found", "not_found", "ambiguous", "invalid", "throttled")


class PersonRegisteredData(Schema):
    """``PersonRegistered`` (staff, F-1/F-2's data): the FIN, names, birth date and status
    (personal data: never public)."""
    fin = fields.String(required=True)
    name = fields.String(required=True)
    surname = fields.String(required=True)
    patronymic = fields.String(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    birth_date = fields.Date(required=True)
    status = fields.String(required=True)


class IdCardIssuedData(Schema):
    """``IdCardIssued``: a card's series and number for a FIN, when issued and until when
    valid."""
    fin = fields.String(required=True)
    series_number = fields.String(required=True)
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class IdCardInvalidatedData(Schema):
    """``IdCardInvalidated``: a card replaced or lost, no longer found by a lookup (F-4)."""
    fin = fields.String(required=True)
    series_number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("replaced", "lost")))


class PopulationImportedData(Schema):
    """``PopulationImported``: one bulk import — how many people and documents, and the
    generator's seed and day, from which ``read_model.rebuild`` regenerates the same
    rows."""
    people = fields.Integer(required=True)
    documents = fields.Integer(required=True)
    seed = fields.Integer(required=True)
    as_of = fields.Date(metadata={"description": "the day the synthetic population is as of"
                                  " (ages, card dates); absent in imports before it was kept"})
    source = fields.String(required=True)


class FinQueriedPublic(Schema):
    """What leaves the registry of a query (F-6): no FIN, name, date, card or address."""
    query_id = fields.UUID(required=True)
    method = fields.String(required=True, validate=validate.OneOf(("id_card", "name")))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    latency_ms = fields.Float(required=True)
    channel = fields.String(required=True)
    asked_at = fields.AwareDateTime(required=True)


class FinQueriedData(FinQueriedPublic):
    """The full record of a query (F-6), kept in the registry's own log: what was asked,
    from where, what was answered — the ``fin_queries`` row is its projection. Absent
    in events written before the log kept them (issue 16); see ``read_model``."""
    asked = fields.Dict(metadata={"description": "what was asked, as given (personal data)"})
    client = fields.String(metadata={"description": "where from (an address)"})
    answered_fin = fields.String(allow_none=True, metadata={"description": "the FIN answered"})


CATALOG = EventCatalog("registry")
PersonRegistered = CATALOG.register("PersonRegistered", PersonRegisteredData, public=None).event
IdCardIssued = CATALOG.register("IdCardIssued", IdCardIssuedData, public=None).event
IdCardInvalidated = CATALOG.register("IdCardInvalidated", IdCardInvalidatedData,
                                     public=None).event
PopulationImported = CATALOG.register("PopulationImported", PopulationImportedData).event
FinQueried = CATALOG.register("FinQueried", FinQueriedData, public=FinQueriedPublic).event
