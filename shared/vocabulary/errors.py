"""Refusals: every "no" says why, in Azerbaijani and English (Q-5).

A refusal is a plain exception naming a kind of "no" — invalid data, not found, a
conflict with the state of things, too many requests, a neighbour unavailable — that
domain code raises without knowing about HTTP (issue 16). The HTTP layer alone maps
each kind to a status (``shared.edge.http.STATUS_OF``) and a JSON body, once::

    {"error": "validation_failed",
     "message": {"az": "...", "en": "..."},
     "reasons": [{"field": "email", "code": "invalid", "az": "...", "en": "..."}]}

Validators raise ``marshmallow.ValidationError(Text("code", az, en))``; marshmallow's
own messages (required, wrong type…) are translated by :func:`reasons_from_marshmallow`.
"""
import math
from dataclasses import dataclass


class Text(str):
    """A message in both languages. As a ``str`` it is the English text, so it passes
    through marshmallow unchanged and we can still find its Azerbaijani twin."""

    def __new__(cls, code, az, en):
        """``Text(code, az, en)``: ``code`` is the machine-readable name (``"invalid_email"``),
        ``az`` and ``en`` the message in each language."""
        text = super().__new__(cls, en)
        text.code, text.az, text.en = code, az, en
        return text

    def as_dict(self):
        """``{code, az, en}``, as it appears in an error body."""
        return {"code": self.code, "az": self.az, "en": self.en}


@dataclass(frozen=True)
class Reason:
    """Why one field (or, with ``field`` ``None``, the whole request) was refused: a
    machine-readable ``code`` and the explanation in Azerbaijani and English (Q-5: the panel
    of reasons)."""

    field: str | None
    code: str
    az: str
    en: str

    def as_dict(self):
        """``{field, code, az, en}``, one item of an error body's ``reasons``."""
        return {"field": self.field, "code": self.code, "az": self.az, "en": self.en}


class Refusal(Exception):
    """A request we refuse, with the reasons. Never a 500, never a partial write.

    ``error`` is the machine-readable name clients branch on, and each route's OpenAPI
    document lists the names it can answer (a contract test holds the two together).
    By default it is the code of ``message`` (``Conflict(Text("other_centre", …))`` →
    ``"other_centre"``); a class may pin one name for all its refusals
    (:class:`Unauthorized`, :class:`ValidationFailed`, :class:`TooManyRequests`).
    A refusal without reasons of its own lists its message as the one reason, so a
    client always finds at least one (Q-5: the panel of reasons is never empty).
    """

    error = None
    # True for a refusal whose record must be kept (M-2: a refused form, a wrong code
    # counted): ServiceDatabase.run commits what the command appended before it
    # raised, then raises the refusal. A refusal carrying ``events`` keeps them.
    keeps_record = False

    def __init__(self, message, reasons=(), status=None, error=None, headers=None,
                 keeps_record=None, events=()):
        super().__init__(message.en)
        # The decided events the refusal keeps (``(event_type, data)`` pairs, recorded
        # by ``UnitOfWork.decide`` before the refusal is raised on): a wrong code
        # counted is a "no" that changes the booking.
        self.events = list(events)
        if keeps_record is not None:
            self.keeps_record = keeps_record
        elif self.events:
            self.keeps_record = True
        self.message = message
        self.reasons = list(reasons)
        # Only the HTTP layer (shared.edge.http, shared.edge.boundary) names a status itself;
        # every other refusal gets its kind's (shared.edge.http.STATUS_OF).
        self.status = status
        self.error = error or self.error or getattr(message, "code", None) or "refused"
        self.headers = headers or {}

    def as_dict(self):
        """The JSON error body ``{error, message: {az, en}, reasons: [{field, code, az, en}]}``;
        ``reasons`` is never empty (Q-5)."""
        reasons = self.reasons or [Reason(None, getattr(self.message, "code", self.error),
                                          self.message.az, self.message.en)]
        return {"error": self.error,
                "message": {"az": self.message.az, "en": self.message.en},
                "reasons": [reason.as_dict() for reason in reasons]}


class ValidationFailed(Refusal):
    """The data sent is wrong; ``reasons`` name every wrong field (Q-5)."""
    error = "validation_failed"

    def __init__(self, reasons, events=()):
        super().__init__(Text("validation_failed", "Məlumatlarda səhvlər var.",
                              "The data contains errors."), reasons, events=events)


class NotFound(Refusal):
    """What the request names does not exist (or may not be told apart from that)."""


class Conflict(Refusal):
    """The request is sound but the state of things refuses it (a race lost, a
    booking already confirmed, a slot full)."""


class Rejected(Refusal):
    """The request was understood and checked, and what it carries is refused (a
    wrong confirmation code, Q-6)."""


class Gone(Refusal):
    """What the request names existed and is no more (a lapsed booking)."""


class Unauthorized(Refusal):
    """No or a wrong credential."""
    error = "unauthorized"


class TooManyRequests(Refusal):
    """Too many at once, with ``retry_after`` (seconds): slowed down, never locked out
    (F-5)."""
    error = "too_many_requests"

    def __init__(self, message, retry_after, reasons=(), limit=None, events=()):
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(message, reasons, headers={"Retry-After": str(seconds)},
                         events=events)
        self.retry_after = seconds
        self.limit = limit  # which limit or cap refused (asan_rate_limited_total's label)


def wait_words(seconds):
    """A wait as people say it, in both languages, rounded up: ("40 saniyə", "40
    seconds"), ("3 dəqiqə", "3 minutes"), ("2 saat", "2 hours")."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} saniyə", f"{seconds} second" + ("s" if seconds != 1 else "")
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} dəqiqə", f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return f"{hours} saat", f"{hours} hour" + ("s" if hours != 1 else "")


SLOW_DOWN_AZ = "Qısa müddətdə çox sayda sorğu göndərilib; {wait} sonra yenidən cəhd edin."
SLOW_DOWN_EN = "Too many requests in a short time; please try again in {wait}."


def slow_down(limit, seconds, field=None, code="slow_down", az=SLOW_DOWN_AZ, en=SLOW_DOWN_EN):
    """The 429 of the rate limit or cap named ``limit``: ``Retry-After`` and one reason
    saying when to try again (``az``/``en`` with a ``{wait}`` placeholder)."""
    wait_az, wait_en = wait_words(seconds)
    text = Text(code, az.format(wait=wait_az), en.format(wait=wait_en))
    return TooManyRequests(text, seconds, [Reason(field, code, text.az, text.en)], limit=limit)


class Unavailable(Refusal):
    """A neighbour (another service, the database) did not answer in time. The
    request may be sent again; nothing of it was written."""
    error = "unavailable"

    def __init__(self, message=None, retry_after=2):
        super().__init__(message or TRY_AGAIN, headers={"Retry-After": str(retry_after)})


TRY_AGAIN = Text("unavailable", "Xidmət hazırda cavab vermir. Zəhmət olmasa bir neçə saniyədən"
                 " sonra yenidən cəhd edin.",
                 "The service is not answering right now. Please try again in a few seconds.")


# marshmallow's own messages, in Azerbaijani. Anything not listed keeps its English
# text and gets a generic Azerbaijani one, so no reason is ever left untranslated.
_MARSHMALLOW_AZ = {
    "Missing data for required field.": ("required", "Bu sahə mütləq doldurulmalıdır."),
    "Field may not be null.": ("required", "Bu sahə boş ola bilməz."),
    "Unknown field.": ("unknown_field", "Belə sahə yoxdur."),
    "Not a valid string.": ("invalid_type", "Mətn olmalıdır."),
    "Not a valid integer.": ("invalid_type", "Tam ədəd olmalıdır."),
    "Not a valid number.": ("invalid_type", "Ədəd olmalıdır."),
    "Not a valid boolean.": ("invalid_type", "Bəli/xeyr dəyəri olmalıdır."),
    "Not a valid date.": ("invalid_date", "Tarix düzgün deyil (İİİİ-AA-GG)."),
    "Not a valid datetime.": ("invalid_datetime", "Tarix və saat düzgün deyil."),
    "Not a valid time.": ("invalid_time", "Saat düzgün deyil (SS:DD)."),
    "Not a valid email address.": ("invalid_email", "E-poçt ünvanı düzgün deyil."),
    "Not a valid UUID.": ("invalid_id", "İdentifikator düzgün deyil."),
    "Not a valid list.": ("invalid_type", "Siyahı olmalıdır."),
    "Not a valid mapping type.": ("invalid_type", "Obyekt olmalıdır."),
    "Invalid input type.": ("invalid_type", "Məlumatın tipi düzgün deyil."),
    "Invalid value.": ("invalid", "Dəyər düzgün deyil."),
}


def translate(message):
    """A marshmallow error message as a :class:`Text`: ours as is, marshmallow's own translated
    (:data:`_MARSHMALLOW_AZ`, or by prefix), anything else ``invalid`` with a generic
    Azerbaijani text and the English original."""
    if isinstance(message, Text):
        return message
    code, az = _MARSHMALLOW_AZ.get(message, ("invalid", "Dəyər düzgün deyil."))
    if message.startswith("Must be one of"):
        code, az = "not_allowed", "Dəyər icazə verilənlərdən biri olmalıdır."
    elif message.startswith(("Length must", "Shorter than", "Longer than")):
        code, az = "length", "Uzunluq düzgün deyil."
    return Text(code, az, message)


def reasons_from_marshmallow(messages, prefix=None):
    """Flatten marshmallow's nested ``{field: [messages]}`` into reasons."""
    reasons = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = key if prefix is None else f"{prefix}.{key}"
            if key == "_schema":
                name = prefix
            reasons += reasons_from_marshmallow(value, name)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            reasons += reasons_from_marshmallow(item, prefix)
    else:
        text = translate(str(messages)) if not isinstance(messages, Text) else messages
        reasons.append(Reason(prefix, text.code, text.az, text.en))
    return reasons
