"""Issue 17 §6: the email of a booking cancelled by a closure says why, in the
booking's language, and where to book again; a whole centre's closure names no
service as closed."""
import pytest

from services.notification.templates import Templates

VARIABLES = {"name": "Leyla", "date": "2026-12-01", "time": "09:00", "centre": "Baku 1",
             "address": "Nəsimi r.", "service": "Passport",
             "book_again_url": "https://onlaynnovbe.example.az/booking"}


@pytest.mark.parametrize("language, reason", [("az", "elektrik enerjisinin kəsilməsi"),
                                              ("en", "a power outage")])
def test_the_closure_email_says_why_and_links_to_booking_again(language, reason):
    for whole in (True, False):
        email = Templates().render("booking_closed", language,
                                   VARIABLES | {"reason": reason, "whole_centre": whole})
        assert reason in email.text and reason in email.html
        assert VARIABLES["book_again_url"] in email.text
        assert f'href="{VARIABLES["book_again_url"]}"' in email.html
        assert "09:00" in email.text and "01.12.2026" in email.text
        assert "Leyla" not in email.subject  # subjects end up in mail server logs


def test_a_whole_centre_closure_names_the_service_only_as_the_booking_s():
    whole = Templates().render("booking_closed", "en", VARIABLES | {
        "reason": "an emergency", "whole_centre": True}).text
    one = Templates().render("booking_closed", "en", VARIABLES | {
        "reason": "an emergency", "whole_centre": False}).text
    assert "is closed on Tuesday, 01.12.2026" in whole
    assert 'is closed for "Passport" on Tuesday, 01.12.2026' in one
