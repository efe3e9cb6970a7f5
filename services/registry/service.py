"""nameko entrypoints of the registry service: thin, the logic lives elsewhere."""
from pathlib import Path

from shared.db import Database
from shared.platform import PlatformService

from .events import CATALOG


class RegistryService(PlatformService):
    name = "registry"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations")
