"""Issue 17 §4, §5: the reminder, reschedule and new-order-code emails render in both
languages from the variables booking sends (StrictUndefined: a missing one fails),
as version 2 of their templates (issue 23 §5: days as DD.MM.YYYY with the weekday),
the code in the body and never in the subject."""
import pytest

from services.notification.templates import Templates

COMMON = {"name": "Leyla", "date": "2026-11-25", "time": "10:15", "centre": "Bakı 1",
          "address": "Bakı, Heydər Əliyev pr. 1", "service": "Pasport"}
SENT = {"booking_reminder": COMMON,
        "booking_rescheduled": dict(COMMON, previous_date="2026-11-24", previous_time="09:00"),
        "booking_order_code_reissued": dict(COMMON, order_code="K7M2-QX4P")}


@pytest.mark.parametrize("language", ["az", "en"])
@pytest.mark.parametrize("template", sorted(SENT))
def test_i17_each_new_email_renders_in_both_languages(template, language):
    email = Templates().render(template, language, SENT[template])
    assert email.version == 2 and email.subject
    for part in (email.text, email.html):
        assert "25.11.2026" in part and "10:15" in part and "Leyla" in part
        assert "2026-11-25" not in part
    if template == "booking_order_code_reissued":
        assert "K7M2-QX4P" in email.text and "K7M2-QX4P" in email.html
        assert "K7M2" not in email.subject
    if template == "booking_rescheduled":
        assert "09:00" in email.text and "24.11.2026" in email.text


def test_i17_a_variable_missing_is_an_error_not_an_empty_gap():
    with pytest.raises(Exception):
        Templates().render("booking_reminder", "az", {"name": "Leyla"})
