"""Issue 23 §5: one reading of a day for people, ``DD.MM.YYYY`` with the weekday in
the reader's language (``shared.vocabulary.dates``), for pages, emails, refusals and tickets."""
from datetime import date, datetime, timedelta

import pytest

from shared.vocabulary import dates
from shared.vocabulary.clock import BAKU

# A week of days whose weekdays are known from the calendar, Monday first: the week of
# 7 December 2026 (8 December 2026 is the issue's Tuesday).
WEEK = [date(2026, 12, 7) + timedelta(days=n) for n in range(7)]
AZ = ["bazar ertəsi", "çərşənbə axşamı", "çərşənbə", "cümə axşamı", "cümə", "şənbə", "bazar"]
EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.mark.parametrize("day, az, en", list(zip(WEEK, AZ, EN)))
def test_every_weekday_in_both_languages(day, az, en):
    numeric = f"{day.day:02d}.12.2026"
    assert dates.day_text(day, "az") == f"{az}, {numeric}"
    assert dates.day_text(day, "en") == f"{en}, {numeric}"
    assert dates.day_both(day) == {"az": f"{az}, {numeric}", "en": f"{en}, {numeric}"}
    assert dates.weekday(day, "az") == az and dates.weekday(day, "en") == en


def test_the_issue_s_example_from_iso_text_typed_text_and_a_datetime():
    assert dates.day_text("2026-12-08", "az") == "çərşənbə axşamı, 08.12.2026"
    assert dates.day_text(" 08.12.2026 ", "en") == "Tuesday, 08.12.2026"
    assert dates.day_text(datetime(2026, 12, 8, 23, 30, tzinfo=BAKU), "en") == \
        "Tuesday, 08.12.2026"
    assert dates.numeric_date("2026-01-05") == "05.01.2026"


def test_an_unknown_language_reads_azerbaijani_and_what_is_no_date_is_shown_as_given():
    assert dates.day_text("2026-12-08", "ru") == "çərşənbə axşamı, 08.12.2026"
    assert dates.day_text("2026-02-30", "en") == "2026-02-30"
    assert dates.day_text(None, "az") == "" and dates.numeric_date(None) == ""
    assert dates.weekday("soon", "en") == ""
