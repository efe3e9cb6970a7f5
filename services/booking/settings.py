"""The booking service's settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``. The rules' numbers
are given to the pure domain as its :class:`~.domain.Policy`, :class:`~.domain.Window`
and :class:`~.domain.Reminders`, made here from these fields."""
from dataclasses import dataclass
from datetime import timedelta

from shared.runtime.settings import CitizenEdgeSettings, ServiceSettings

from . import domain


@dataclass(frozen=True)
class BookingSettings(ServiceSettings, CitizenEdgeSettings):
    """The platform's keys, the citizen edge's (``RATE_LIMITS``: ``booking_request``,
    ``booking_confirm``, ``booking_cancel``, ``booking_reschedule``, ``booking_resend``,
    ``booking_resend_per_booking``; ``RATE_LIMITS_ENABLED`` false also lifts the caps
    below), and:

    - ``BOOKING_CODE_KEY``: the secret key of the codes' hashes (Q-2, Q-4);
    - ``HOLD_MINUTES``: how long an unconfirmed booking holds its place (Q-2);
      ``HOLD_SWEEP_SECONDS``: how often lapsed holds are swept;
    - ``MAX_WRONG_CODES``: wrong confirmation codes before a request is void (Q-6);
    - ``HORIZON_DAYS``: how many days ahead a visit may be booked (Q-1);
    - ``MAX_ACTIVE_PER_ID_CARD``: bookings per ID card, service and day (Q-1);
    - ``RESEND_ANSWER_SECONDS``: a lost-code request is answered no sooner (seconds);
    - ``MAX_HOLDS_PER_ADDRESS``, ``MAX_HOLDS_PER_EMAIL``, ``MAX_HOLDS_PER_PHONE``:
      unconfirmed holds at once per client address, and per email and phone typed from
      it; ``MAX_DAY_PER_ADDRESS``: bookings of one service at one centre on one day per
      client address (0: no cap; docs/OPERATIONS.md, "Abuse limits");
    - ``EXTRA_CLOSED_DAYS``: ISO dates closed by decision besides the public holidays;
    - ``OPERATOR_TOKEN_SHA256``: SHA-256 of the call-centre operators' tokens (Q-9);
      ``CLOSURE_TOKEN_SHA256``: of the staff tokens that may close a centre's day;
    - ``BOOK_AGAIN_URL``: the booking form a closure's email sends the citizen to;
    - ``ACTIVATION_EARLY_MINUTES``, ``ACTIVATION_GRACE_MINUTES``: the activation window
      around the booked time (Q-7, Q-8); ``LAPSE_SWEEP_SECONDS``: how often no-shows lapse;
    - ``REMINDER_HOUR`` (Baku), ``REMINDER_QUIET_HOURS``, ``REMINDER_SWEEP_SECONDS``:
      the reminder the day before the visit (:class:`~.domain.Reminders`).
    """

    BOOKING_CODE_KEY: str
    HOLD_MINUTES: float
    HOLD_SWEEP_SECONDS: float
    MAX_WRONG_CODES: int
    HORIZON_DAYS: int
    MAX_ACTIVE_PER_ID_CARD: int
    RESEND_ANSWER_SECONDS: float
    MAX_HOLDS_PER_ADDRESS: int
    MAX_HOLDS_PER_EMAIL: int
    MAX_HOLDS_PER_PHONE: int
    MAX_DAY_PER_ADDRESS: int
    EXTRA_CLOSED_DAYS: tuple[str, ...]
    OPERATOR_TOKEN_SHA256: tuple[str, ...]
    CLOSURE_TOKEN_SHA256: tuple[str, ...]
    BOOK_AGAIN_URL: str
    ACTIVATION_EARLY_MINUTES: float
    ACTIVATION_GRACE_MINUTES: float
    LAPSE_SWEEP_SECONDS: float
    REMINDER_HOUR: int
    REMINDER_QUIET_HOURS: float
    REMINDER_SWEEP_SECONDS: float

    def _cap(self, value):
        # The caps go with the rate limits: off together (the shared test stack).
        return (value or None) if self.RATE_LIMITS_ENABLED else None

    @property
    def policy(self):
        """The booking rules' numbers as :class:`~.domain.Policy` (a cap of 0, or every
        cap when ``RATE_LIMITS_ENABLED`` is false: ``None``, no cap)."""
        return domain.Policy(
            hold_minutes=self.HOLD_MINUTES, max_wrong_codes=self.MAX_WRONG_CODES,
            horizon_days=self.HORIZON_DAYS, max_active_per_id_card=self.MAX_ACTIVE_PER_ID_CARD,
            max_holds_per_address=self._cap(self.MAX_HOLDS_PER_ADDRESS),
            max_holds_per_email=self._cap(self.MAX_HOLDS_PER_EMAIL),
            max_holds_per_phone=self._cap(self.MAX_HOLDS_PER_PHONE),
            max_day_per_address=self._cap(self.MAX_DAY_PER_ADDRESS))

    @property
    def window(self):
        """The activation window as :class:`~.domain.Window` (Q-7, Q-8)."""
        return domain.Window(early=timedelta(minutes=self.ACTIVATION_EARLY_MINUTES),
                             grace=timedelta(minutes=self.ACTIVATION_GRACE_MINUTES))

    @property
    def reminders(self):
        """The reminder's hour and quiet time as :class:`~.domain.Reminders`."""
        return domain.Reminders(hour=self.REMINDER_HOUR,
                                quiet=timedelta(hours=self.REMINDER_QUIET_HOURS))
