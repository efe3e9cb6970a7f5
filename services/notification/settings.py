"""The notification service's settings: every key of ``config.yaml``, typed, named
once (``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass

from shared.runtime.settings import ServiceSettings

from .schedule import RetrySchedule


@dataclass(frozen=True)
class NotificationSettings(ServiceSettings):
    """The platform's keys, and: ``EVENT_REDELIVERY_DELAYS_MS`` (the delay queues of an
    email tried again later, ms), ``EMAIL_RETRY_SCHEDULE_SECONDS`` (seconds after each
    failed try, the last repeated, while before the request's ``deliver_by``; Q-2,
    Q-4), ``OPERATOR_TOKEN_SHA256`` (SHA-256 of the call centre's bearer tokens, which
    may read emails' delivery states), and the SMTP relay's: ``SMTP_HOST``,
    ``SMTP_PORT``, ``SMTP_STARTTLS`` (STARTTLS required, the certificate verified),
    ``SMTP_CA_FILE`` (a PEM file; ``None``: the system's CAs), ``SMTP_USER`` and
    ``SMTP_PASSWORD`` (``None``: no login), ``SMTP_TIMEOUT`` (seconds), ``MAIL_FROM``
    (``Name <address>``)."""

    EVENT_REDELIVERY_DELAYS_MS: tuple[int, ...]
    EMAIL_RETRY_SCHEDULE_SECONDS: tuple[float, ...]
    OPERATOR_TOKEN_SHA256: tuple[str, ...]
    SMTP_HOST: str
    SMTP_PORT: int
    SMTP_STARTTLS: bool
    SMTP_CA_FILE: str | None
    SMTP_USER: str | None
    SMTP_PASSWORD: str | None
    SMTP_TIMEOUT: float
    MAIL_FROM: str

    @property
    def retry_schedule(self):
        """When a failed email is tried again (:class:`~.schedule.RetrySchedule`): the
        email schedule, and for a request without ``deliver_by`` the consumer's
        ``EVENT_RETRY_DELAYS_MS`` in seconds."""
        return RetrySchedule(steps=self.EMAIL_RETRY_SCHEDULE_SECONDS,
                             legacy=tuple(ms / 1000 for ms in self.EVENT_RETRY_DELAYS_MS))
