"""The event types of the registry service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("registry")
