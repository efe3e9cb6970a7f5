"""The marshmallow fields every request schema uses for identifiers, dates and
numbers: one reading of each, whichever service and endpoint (issue 12).

* :class:`IdCard`, :class:`Fin`, :class:`ConfirmationCode`, :class:`OrderCode`,
  :class:`Phone`: the value in its canonical form (``shared.vocabulary.identity``: NFKC, ASCII
  digits, no separators), or a refusal naming the format in Azerbaijani and English.
  A malformed confirmation or order code is refused here, before any handler, so it
  never counts as a wrong try (Q-6) nor as a kiosk's wrong code.
* :class:`Date`: ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (how dates are written in
  Azerbaijan), spaces trimmed, within a range (default 1900-01-01 … 2100-12-31):
  arithmetic follows every date we accept (a deadline one month later, the next
  day of a report), and year 9999 or 0001 made it overflow into a 500.
* :class:`AwareDateTime`: ISO 8601 with a zone, within the same years.
* :class:`Integer`: a whole number within a range (default: what a PostgreSQL
  ``integer`` holds); ``10.5`` is not silently 10, nor ``"1_000"`` 1000.
* :class:`EmailAddress` (``shared.vocabulary.email_address``): an address whose domain may be
  in any script (sent in its IDNA form) but whose local part a relay can take.

Each range is a :class:`Within` validator, so the OpenAPI documents show it.
"""
import re
from datetime import date, datetime, timezone

from marshmallow import ValidationError, fields, validate

from . import identity
from .email_address import EmailAddress  # noqa: F401 - one module of fields
from .clock import validation_today
from .dates import numeric_date
from .errors import Text

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1  # a PostgreSQL integer
INTEGER_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
DATE_FORMATS = "YYYY-MM-DD or DD.MM.YYYY"

ID_CARD_FORMAT = Text(
    "id_card_format", "Şəxsiyyət vəsiqəsinin seriyası və nömrəsi AZE və 8 rəqəm və ya AA və"
    " 7 rəqəm olmalıdır (məs. AZE12345678).",
    "The ID card series and number must be AZE and 8 digits, or AA and 7 digits"
    " (e.g. AZE12345678).")
FIN_FORMAT = Text(
    "fin_format", "FİN 7 simvoldan ibarətdir: rəqəmlər və I, O-dan başqa latın böyük hərfləri.",
    "A FIN is 7 characters: digits and Latin capital letters but I and O.")
CODE_FORMAT = Text("code_format", "Təsdiqedici şifrə 6 rəqəmdən ibarətdir.",
                   "The confirmation code is 6 digits.")
ORDER_CODE_FORMAT = Text(
    "order_code_format", "Sifariş kodu 8 simvoldan ibarətdir (məs. K7M2-QX4P).",
    "An order code is 8 characters (e.g. K7M2-QX4P).")
PHONE_FORMAT = Text("phone",
                    "Azərbaycan telefon nömrəsi düzgün deyil (məs. +994 50 123 45 67).",
                    "Not a valid Azerbaijani phone number (e.g. +994 50 123 45 67).")
INVALID_DATE = Text("invalid_date", "Tarix düzgün deyil (İİİİ-AA-GG və ya GG.AA.İİİİ).",
                    "Not a valid date (YYYY-MM-DD or DD.MM.YYYY).")
INVALID_DATETIME = Text(
    "invalid_datetime", "Tarix və saat düzgün deyil (saat qurşağı ilə: İİİİ-AA-GGTSS:DD+04:00).",
    "Not a valid date and time (with its zone: YYYY-MM-DDTHH:MM+04:00).")
INVALID_INTEGER = Text("invalid_type", "Tam ədəd olmalıdır.", "Not a valid integer.")


class Within(validate.Validator):
    """``minimum <= value <= maximum``, or ``error``. Its ``min`` and ``max`` are what
    apispec reads to document the range."""

    def __init__(self, minimum, maximum, error):
        self.min, self.max, self.error = minimum, maximum, error

    def __call__(self, value):
        """``value`` if within the range; raises ``ValidationError(error)`` otherwise."""
        if not self.min <= value <= self.max:
            raise ValidationError(self.error)
        return value


def date_range_problem(earliest, latest):
    """The bilingual :class:`Text` ``out_of_range`` for a date outside ``earliest``–``latest``
    (both included; in both languages DD.MM.YYYY, as dates are read here)."""
    return Text("out_of_range",
                f"Tarix {numeric_date(earliest)} ilə {numeric_date(latest)} arasında olmalıdır.",
                f"The date must be from {numeric_date(earliest)} to {numeric_date(latest)}.")


class _Canonical(fields.String):
    """A string read into its canonical form by ``canonical``, or refused with
    ``problem``."""

    canonical = None  # a shared.vocabulary.identity function: text → canonical text or None
    problem = None

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        result = type(self).canonical(text)
        if result is None:
            raise ValidationError(self.problem)
        return result


class IdCard(_Canonical):
    """The ID card's series and number: ``AZE12345678`` or ``AA1234567`` (F-1, Q-5)."""
    canonical = staticmethod(identity.canonical_id_card)
    problem = ID_CARD_FORMAT


class Fin(_Canonical):
    """A personal identification number: 7 digits and Latin capitals but I, O."""
    canonical = staticmethod(identity.canonical_fin)
    problem = FIN_FORMAT


class ConfirmationCode(_Canonical):
    """The emailed 6-digit confirmation code (Q-3)."""
    canonical = staticmethod(identity.canonical_confirmation_code)
    problem = CODE_FORMAT


class OrderCode(_Canonical):
    """An order code, with or without its dash (Q-4, Q-7): ``K7M2-QX4P`` → ``K7M2QX4P``."""
    canonical = staticmethod(identity.canonical_order_code)
    problem = ORDER_CODE_FORMAT


class Phone(_Canonical):
    """An Azerbaijani phone number, as E.164: ``+994501234567``."""
    canonical = staticmethod(identity.canonical_phone)
    problem = PHONE_FORMAT


IN_THE_FUTURE = Text("in_the_future", "Bu tarix hələ gəlməyib (Bakı vaxtı ilə).",
                     "That day has not come yet (Baku time).")


class Date(fields.Date):
    """A day: ``YYYY-MM-DD`` or ``DD.MM.YYYY``, within ``earliest`` … ``latest``; with
    ``not_in_future``, not after the Baku day of the service's clock (a letter received,
    a person born), which the service sets with ``shared.vocabulary.clock.validating_on``."""

    def __init__(self, *, earliest=EARLIEST_DATE, latest=LATEST_DATE, not_in_future=False,
                 **kwargs):
        metadata = dict(kwargs.pop("metadata", None) or {})
        given = metadata.get("description")
        metadata["description"] = f"{given} ({DATE_FORMATS})" if given else DATE_FORMATS
        if not_in_future:
            metadata["description"] += "; not after today (Baku)"
        super().__init__(metadata=metadata, **kwargs)
        within = Within(earliest, latest, date_range_problem(earliest, latest))
        self.validators.insert(0, within)
        if not_in_future:
            def has_come(day):  # a day out of range already has its reason
                if earliest <= day <= latest and day > validation_today():
                    raise ValidationError(IN_THE_FUTURE)
            self.validators.insert(1, has_come)

    def _deserialize(self, value, attr, data, **kwargs):
        day = identity.canonical_date(value)
        if day is None:
            raise ValidationError(INVALID_DATE)
        return day


class AwareDateTime(fields.AwareDateTime):
    """An instant in ISO 8601 with its zone, within ``earliest`` … ``latest``."""

    def __init__(self, *, earliest=datetime(1900, 1, 1, tzinfo=timezone.utc),
                 latest=datetime(2100, 12, 31, 23, 59, 59, tzinfo=timezone.utc), **kwargs):
        super().__init__(**kwargs)
        self.validators.insert(0, Within(earliest, latest, Text(
            "out_of_range", f"Tarix və saat {earliest:%d.%m.%Y} ilə {latest:%d.%m.%Y} arasında"
            " olmalıdır.", f"The date and time must be from {earliest:%d.%m.%Y} to"
            f" {latest:%d.%m.%Y}.")))

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(INVALID_DATETIME)
        try:
            return super()._deserialize(identity.ascii_digits(value).strip(), attr, data,
                                        **kwargs)
        except ValidationError:
            raise ValidationError(INVALID_DATETIME) from None


class Integer(fields.Integer):
    """A whole number within ``minimum`` … ``maximum`` (default: a PostgreSQL integer).
    From text (a query parameter) only ASCII-able digits with an optional sign."""

    def __init__(self, *, minimum=INT_MIN, maximum=INT_MAX, **kwargs):
        super().__init__(**kwargs)
        self.range = Within(minimum, maximum, Text(
            "out_of_range", f"{minimum} ilə {maximum} arasında tam ədəd olmalıdır.",
            f"Must be a whole number from {minimum} to {maximum}."))
        self.validators.insert(0, self.range)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            text = identity.ascii_digits(value).strip()
            if not INTEGER_RE.fullmatch(text):
                raise ValidationError(INVALID_INTEGER)
            if len(text) > 20:  # out of any range; int() refuses over 4300 digits anyway
                raise ValidationError(self.range.error)
            return int(text)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                isinstance(value, float) and not value.is_integer():
            raise ValidationError(INVALID_INTEGER)
        return int(value)
