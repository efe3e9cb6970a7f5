"""Days as people in Azerbaijan read them: ``08.12.2026``, with the weekday in the
reader's language — ``çərşənbə axşamı, 08.12.2026`` or ``Tuesday, 08.12.2026``. Every
date a citizen or a member of staff reads (pages, emails, the board, refusals, the
printed ticket) goes through here; APIs and events keep ISO 8601. Times stay ``HH:MM``
Baku, beside the day. Pure: no clock, no locale of the machine.

    day_text(date(2026, 12, 8), "az")   # 'çərşənbə axşamı, 08.12.2026'
    day_text("2026-12-08", "en")        # 'Tuesday, 08.12.2026'
    numeric_date("2026-12-08")          # '08.12.2026'
"""
from datetime import date, datetime

from .identity import canonical_date

LANGUAGES = ("az", "en")
# Monday … Sunday, as date.weekday() counts them.
WEEKDAYS = {
    "az": ("bazar ertəsi", "çərşənbə axşamı", "çərşənbə", "cümə axşamı", "cümə", "şənbə",
           "bazar"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
# How a date is to be typed, for a form's hint: the letters of each language's own
# words for day, month and year (gün, ay, il).
TYPED_FORM = {"az": "GG.AA.İİİİ", "en": "DD.MM.YYYY"}


def as_date(value):
    """``value`` (a ``date``, a ``datetime``, or text ``YYYY-MM-DD`` / ``DD.MM.YYYY``,
    as :func:`shared.vocabulary.identity.canonical_date` reads it) as a ``date``; ``None`` when it
    is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return canonical_date(value)


def weekday(value, lang):
    """The weekday of ``value`` in ``lang`` (``az``, else English), lower case in
    Azerbaijani as written mid-sentence; ``""`` for what is not a date."""
    day = as_date(value)
    if day is None:
        return ""
    return WEEKDAYS["en" if lang == "en" else "az"][day.weekday()]


def numeric_date(value):
    """``DD.MM.YYYY`` of ``value``; text that is not a date comes back as it was (a
    page shows what it was given rather than nothing)."""
    day = as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def day_text(value, lang):
    """``<weekday>, DD.MM.YYYY`` of ``value`` in ``lang`` (``az``, else English); text
    that is not a date comes back as it was."""
    day = as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{weekday(day, lang)}, {numeric_date(day)}"


def day_both(value):
    """The day for a reader of either language (the printed ticket, the board, a
    refusal shown to both): ``{"az": …, "en": …}`` of :func:`day_text`."""
    return {lang: day_text(value, lang) for lang in LANGUAGES}
