"""The event types of the booking service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("booking")
