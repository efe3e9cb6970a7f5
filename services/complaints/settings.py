"""The complaints service's settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass

from shared.runtime.settings import CitizenEdgeSettings, ServiceSettings


@dataclass(frozen=True)
class ComplaintsSettings(ServiceSettings, CitizenEdgeSettings):
    """The platform's keys, the citizen edge's, and: ``COMPLAINT_WARN_DAYS`` (C-3: staff
    are warned this many days before the deadline), ``DEADLINE_CHECK_SECONDS`` (how
    often the deadlines are checked), ``STAFF_TOKEN_SHA256`` (SHA-256 of the
    reviewing staff's bearer tokens)."""

    COMPLAINT_WARN_DAYS: int
    DEADLINE_CHECK_SECONDS: float
    STAFF_TOKEN_SHA256: tuple[str, ...]
