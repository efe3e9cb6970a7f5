"""nameko entrypoints of the booking service: thin, the logic lives elsewhere."""
from pathlib import Path

from shared.db import Database
from shared.platform import PlatformService

from .events import CATALOG


class BookingService(PlatformService):
    name = "booking"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
