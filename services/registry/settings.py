"""The registry's settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass

from shared.runtime.settings import CitizenEdgeSettings, ServiceSettings


@dataclass(frozen=True)
class RegistrySettings(ServiceSettings, CitizenEdgeSettings):
    """The platform's keys, the citizen edge's (``RATE_LIMITS``: ``fin_lookup``, F-5),
    and ``STAFF_TOKEN_SHA256``: the SHA-256 of the registry staff's bearer tokens."""

    STAFF_TOKEN_SHA256: tuple[str, ...]
