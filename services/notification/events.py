"""The event types of the notification service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("notification")
