"""The monitoring service's settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass
from datetime import timedelta

from shared.runtime.settings import ServiceSettings


@dataclass(frozen=True)
class MonitoringSettings(ServiceSettings):
    """The platform's keys, and: ``REPORT_TOKEN_SHA256`` (SHA-256 of the tokens of the
    people responsible for control, M-4), ``STUCK_AFTER_MINUTES`` (a code or
    order-code email not delivered this long after it was due is a failure, M-3),
    ``DAILY_REPORT_AFTER_MINUTES`` (past Baku midnight, the daily report of
    yesterday is made), ``DAILY_REPORT_CHECK_SECONDS`` and ``MONITOR_GAUGE_SECONDS``
    (how often the timers run), ``EVENT_LOGS`` (``{service: database URL}`` of the
    event logs a rebuild reads)."""

    REPORT_TOKEN_SHA256: tuple[str, ...]
    STUCK_AFTER_MINUTES: float
    DAILY_REPORT_AFTER_MINUTES: float
    DAILY_REPORT_CHECK_SECONDS: float
    MONITOR_GAUGE_SECONDS: float
    EVENT_LOGS: dict[str, str]

    @property
    def stuck_after(self):
        """``STUCK_AFTER_MINUTES`` as a ``timedelta``."""
        return timedelta(minutes=self.STUCK_AFTER_MINUTES)

    @property
    def daily_after(self):
        """``DAILY_REPORT_AFTER_MINUTES`` as a ``timedelta``."""
        return timedelta(minutes=self.DAILY_REPORT_AFTER_MINUTES)
