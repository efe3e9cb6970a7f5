"""The event types of the kiosk_gateway service and their schemas (its public contract)."""
from shared.catalog import EventCatalog

CATALOG = EventCatalog("kiosk_gateway")
