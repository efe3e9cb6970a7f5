"""Issue 23 §5: every email that names a day shows it as read in Azerbaijan,
``DD.MM.YYYY`` with the weekday in the email's language, never ISO 8601 (which
booking and complaints send in the variables); its template is a new version, the
old one kept for the emails already sent."""
import pytest

from services.notification.templates import FOLDER, Templates

# 2026-11-25 is a Wednesday, 2026-11-24 a Tuesday, 2026-12-25 a Friday.
VARIABLES = {"name": "Leyla", "date": "2026-11-25", "time": "10:15", "centre": "Bakı 1",
             "address": "Bakı, Heydər Əliyev pr. 1", "service": "Pasport", "code": "123456",
             "hold_minutes": 10, "order_code": "K7M2-QX4P", "previous_date": "2026-11-24",
             "previous_time": "09:00", "reason": "təmir", "whole_centre": True,
             "book_again_url": "https://example.az/booking", "reference": "C-2026-000001",
             "due_on": "2026-12-25"}
DAYS = {"booking_confirmation_code": ["date"], "booking_order_code": ["date"],
        "booking_cancelled": ["date"], "booking_reminder": ["date"],
        "booking_rescheduled": ["date", "previous_date"],
        "booking_order_code_reissued": ["date"], "booking_closed": ["date"],
        "complaint_acknowledged": ["due_on"]}
SHOWN = {"az": {"2026-11-25": "çərşənbə, 25.11.2026", "2026-11-24": "çərşənbə axşamı, 24.11.2026",
                "2026-12-25": "cümə, 25.12.2026"},
         "en": {"2026-11-25": "Wednesday, 25.11.2026", "2026-11-24": "Tuesday, 24.11.2026",
                "2026-12-25": "Friday, 25.12.2026"}}


@pytest.mark.parametrize("language", ["az", "en"])
@pytest.mark.parametrize("template", sorted(DAYS))
def test_i23_every_day_in_an_email_has_its_weekday_and_is_day_first(template, language):
    email = Templates().render(template, language, VARIABLES)
    for part in (email.subject, email.text, email.html):
        for iso in SHOWN[language]:
            assert iso not in part
    for part in (email.text, email.html):
        for name in DAYS[template]:
            assert SHOWN[language][VARIABLES[name]] in part


@pytest.mark.parametrize("template", sorted(DAYS))
def test_i23_the_versions_that_showed_iso_days_stay_for_the_emails_already_sent(template):
    assert Templates().versions[template] >= 2
    for language in ("az", "en"):
        assert (FOLDER / template / "v1" / language / "body.txt").is_file()
