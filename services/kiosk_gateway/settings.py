"""The kiosk gateway's settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass
from datetime import timedelta

from shared.runtime.settings import ServiceSettings

from .domain import Policy


@dataclass(frozen=True)
class KioskGatewaySettings(ServiceSettings):
    """The platform's keys, and: ``ADMIN_TOKEN_SHA256`` (SHA-256 of the agency staff's
    admin tokens, D-5), ``KIOSK_STALE_SECONDS`` (an active kiosk without a heartbeat
    this long is counted as not seen, D-4) and ``KIOSK_HEALTH_SECONDS`` (how often it is
    counted), the activation rules of Q-7 — ``REPEAT_WINDOW_MINUTES`` (the same kiosk
    asking again this soon gets its ticket again), ``FREE_FAILURES`` (wrong codes in a
    row before a kiosk is slowed down), ``SLOW_DOWN_SECONDS`` (the first wait, doubled per
    wrong code) —, ``RPC_TIMEOUT_SECONDS`` (booking's answer awaited this long, then 503;
    read by ``shared.runtime.rpc``), ``NO_SHOW_AFTER_RECALLS`` (a called ticket is recalled this
    many times before a no-show, M-2), ``CLOSURES_REFRESH_SECONDS`` (booking's catalogue
    asked again this often for the days staff closed) and ``CATALOGUE_TTL_SECONDS`` (the
    catalogue held is used this long when booking does not answer)."""

    ADMIN_TOKEN_SHA256: tuple[str, ...]
    KIOSK_STALE_SECONDS: float
    KIOSK_HEALTH_SECONDS: float
    REPEAT_WINDOW_MINUTES: float
    FREE_FAILURES: int
    SLOW_DOWN_SECONDS: float
    RPC_TIMEOUT_SECONDS: float
    NO_SHOW_AFTER_RECALLS: int
    CLOSURES_REFRESH_SECONDS: float
    CATALOGUE_TTL_SECONDS: float

    @property
    def stale(self):
        """``KIOSK_STALE_SECONDS`` as a ``timedelta``."""
        return timedelta(seconds=self.KIOSK_STALE_SECONDS)

    @property
    def policy(self):
        """The activation :class:`~.domain.Policy` these settings configure (Q-7)."""
        return Policy(repeat_window=timedelta(minutes=self.REPEAT_WINDOW_MINUTES),
                      free_failures=self.FREE_FAILURES,
                      base_delay=timedelta(seconds=self.SLOW_DOWN_SECONDS))
