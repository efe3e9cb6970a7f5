"""A tiny service used only by the platform tests: one event type with a private
field, and a nameko service whose handler records its effect."""
from marshmallow import Schema, fields

from shared.vocabulary.catalog import EventCatalog


class ThingHappenedData(Schema):
    thing_id = fields.String(required=True)
    amount = fields.Integer(required=True)
    secret = fields.String(load_default=None, allow_none=True)


class ThingHappenedPublic(Schema):
    thing_id = fields.String(required=True)
    amount = fields.Integer(required=True)


CATALOG = EventCatalog("demo")
CATALOG.register("ThingHappened", ThingHappenedData, public=ThingHappenedPublic)
CATALOG.register("ThingNoted", ThingHappenedPublic, public=None)  # stays inside


def thing(uow_or_catalog, thing_id, amount=1, secret=None, correlation_id=None):
    """A new ThingHappened envelope."""
    data = {"thing_id": thing_id, "amount": amount, "secret": secret}
    if hasattr(uow_or_catalog, "new_event"):
        return uow_or_catalog.new_event("ThingHappened", f"thing-{thing_id}", data)
    import uuid

    return uow_or_catalog.new("ThingHappened", f"thing-{thing_id}", data,
                              correlation_id or str(uuid.uuid4()))
