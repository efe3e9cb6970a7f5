"""The event types of the monitoring service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("monitoring")
