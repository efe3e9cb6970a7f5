"""nameko entrypoints of the complaints service: thin, the logic lives elsewhere."""
from pathlib import Path

from shared.db import Database
from shared.platform import PlatformService

from .events import CATALOG


class ComplaintsService(PlatformService):
    name = "complaints"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
