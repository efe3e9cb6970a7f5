"""nameko entrypoints of the notification service: thin, the logic lives elsewhere."""
from pathlib import Path

from shared.db import Database
from shared.platform import PlatformService

from .events import CATALOG


class NotificationService(PlatformService):
    name = "notification"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
