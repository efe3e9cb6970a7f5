"""Issue 23 §5 and §6 in Chromium against the running platform: every day a citizen
reads says its weekday and is written day first (``çərşənbə axşamı, 08.12.2026``) in
az and en, on the booking's code page and summary and on the move page; the date field
reads the same in an English browser and an Azerbaijani one (a text field typed
``DD.MM.YYYY``, not ``<input type=date>``, whose display follows the browser's
locale); the summary shows what the citizen needs — centre, service, the day with its
weekday, the time, what to bring — and not the request id; axe-core finds no WCAG A/AA
violation on these pages."""
import re

import pytest
from selenium.webdriver.common.keys import Keys

from shared.vocabulary.dates import day_text
from tests.browser.conftest import PHONE
from tests.browser.test_booking_pages import book_by_api, fill_applicant
from tests.e2e.booking.conftest import REF, free_slot, new_email, new_id_card, new_phone
from tests.mailbox import confirmation_code, wait_for_mail
from services.web import i18n

pytestmark = pytest.mark.e2e
ISO_DAY = re.compile(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]\b")


def assert_axe_clean(browser, page):
    assert browser.axe_violations() == [], page


@pytest.mark.parametrize("lang", ["az", "en"])
def test_i23_a_booking_shows_its_day_with_the_weekday_and_what_to_bring_not_its_id(
        browser, lang):
    centre, day, at = free_slot()
    data = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": new_id_card(), "phone": new_phone(), "email": new_email()}
    browser.open(f"/booking?lang={lang}")
    field = browser.by_id("booking-date")
    assert field.get_attribute("type") == "text" and field.get_attribute("inputmode") == "numeric"
    assert i18n.text("date_hint", lang) in browser.by_id("booking-date-hint").text
    assert_axe_clean(browser, "form")
    fill_applicant(browser, data)
    browser.choose("booking-service", "passport")
    browser.choose("booking-centre", centre)
    browser.set_date("booking-date", day)  # typed DD.MM.YYYY, as written here
    browser.press("button[value=slots]")
    assert browser.value("booking-date") == f"{day:%d.%m.%Y}"  # kept as typed
    assert day_text(day, lang) in browser.by_id("booking-date-hint").text
    assert at in [o.get_attribute("value") for o in browser.all("#booking-time option")]
    assert_axe_clean(browser, "free-times")
    browser.choose("booking-time", at)
    browser.press("button.primary[value=send_code]")
    assert day_text(day, lang) in browser.find(".visit-day").text
    assert not ISO_DAY.search(browser.text)
    assert_axe_clean(browser, "code")
    browser.shot("1-code")

    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    browser.fill("booking-code", code)
    browser.press("button.primary")
    summary = browser.text
    centre_name = getattr(REF.centres[centre], lang)
    service_name = getattr(REF.services["passport"], lang)
    for expected in (centre_name, service_name, day_text(day, lang), at,
                     i18n.text("bring", lang), i18n.text("bring_text", lang)):
        assert expected in summary, expected
    assert browser.find(".visit-day").text == day_text(day, lang)
    assert not ISO_DAY.search(summary)
    # no internal id: no UUID anywhere in the page, and no "request number"
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                         browser.driver.page_source)
    assert not browser.all("main code")
    assert_axe_clean(browser, "summary")
    browser.shot("2-summary")


def test_i23_the_date_field_reads_the_same_in_an_english_and_an_azerbaijani_browser(
        make_browser):
    centre, day, _ = free_slot()
    seen = {}
    for locale in ("en-US", "az-AZ"):
        browser = make_browser(PHONE, locale=locale, suffix=f"-{locale}")
        assert browser.driver.execute_script("return navigator.language") == locale
        browser.open("/booking")
        browser.choose("booking-service", "passport")
        browser.choose("booking-centre", centre)
        browser.set_date("booking-date", day)
        browser.press("button[value=slots]")
        field = browser.by_id("booking-date")
        # what a person sees in the field is its value: no locale-formatted widget
        seen[locale] = (field.get_attribute("type"), field.get_attribute("value"),
                        browser.by_id("booking-date-hint").text,
                        browser.find("label[for=booking-date]").text)
        browser.shot("field")
    assert seen["en-US"] == seen["az-AZ"]
    assert seen["en-US"][:2] == ("text", f"{day:%d.%m.%Y}")
    assert day_text(day, "az") in seen["en-US"][2]


@pytest.mark.parametrize("lang", ["az", "en"])
def test_i23_the_move_page_names_the_day_with_its_weekday(make_browser, lang):
    data, _, code = book_by_api()
    browser = make_browser(PHONE)  # axe-core runs as a script in the page
    browser.open(f"/reschedule?lang={lang}")
    assert browser.by_id("reschedule-date").get_attribute("type") == "text"
    assert_axe_clean(browser, "find")
    browser.fill("reschedule-order_code", code)
    browser.by_id("reschedule-date").send_keys(data["date"][8:10] + "." + data["date"][5:7]
                                               + "." + data["date"][:4])
    old = browser.find("html")
    browser.by_id("reschedule-date").send_keys(Keys.ENTER)
    browser.wait_for_next_page(old)
    # the booking now, and the day typed for the new time, both with their weekday
    assert browser.find(".visit-day").text == day_text(data["date"], lang)
    assert day_text(data["date"], lang) in browser.by_id("reschedule-date-hint").text
    assert not ISO_DAY.search(browser.text)
    assert_axe_clean(browser, "choose")
    browser.shot("choose")
