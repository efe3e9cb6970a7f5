"""The event types of the complaints service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("complaints")
