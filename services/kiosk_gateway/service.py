"""nameko entrypoints of the kiosk_gateway service: thin, the logic lives elsewhere."""
from pathlib import Path

from shared.db import Database
from shared.platform import PlatformService

from .events import CATALOG


class KioskGatewayService(PlatformService):
    name = "kiosk_gateway"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
