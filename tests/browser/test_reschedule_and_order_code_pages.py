"""Issue 17 §5 through the pages in a real browser with JavaScript turned off, done
with the keyboard only: a booking moved to another time (the order code and the day,
then a free time of that day), the order code never in a URL nor in any page; a
refusal in English whose link takes the keyboard to the field; a lost order code
replaced by a new one, with the same page for details that match nothing (that the
old code then stops working is tests/integration/web's: every browser here is one
citizen, 127.0.0.1, whose moves and new codes booking limits per hour)."""
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.keys import Keys

from shared.vocabulary.dates import day_text
from tests.browser.conftest import PHONE
from tests.browser.test_booking_pages import book_by_api
from tests.mailbox import text_of, wait_for_mail

pytestmark = pytest.mark.e2e


def keyboard_submit(browser, element_id):
    """Enter in a field sends its form, as a person at a keyboard does."""
    old = browser.find("html")
    browser.by_id(element_id).send_keys(Keys.ENTER)
    browser.wait_for_next_page(old)


def assert_private(browser, *secrets):
    assert not urlsplit(browser.url).query, browser.url
    source = browser.driver.page_source
    for secret in secrets:
        assert secret not in source and secret.replace("-", "") not in source


def test_i17_a_booking_is_moved_with_the_keyboard_and_no_javascript(make_browser):
    data, booking_id, code = book_by_api()
    browser = make_browser(PHONE, javascript=False)
    browser.open("/")
    browser.find('a[href="/reschedule"]').click()
    browser.shot("1-form")
    browser.fill("reschedule-order_code", code.lower().replace("-", ""))
    browser.by_id("reschedule-order_code").send_keys(Keys.TAB)
    browser.set_date("reschedule-date", date.fromisoformat(data["date"]))
    keyboard_submit(browser, "reschedule-date")
    assert_private(browser, code)
    assert data["time"] in browser.text  # the booking now
    options = [o.get_attribute("value") for o in browser.all("#reschedule-time option")]
    free = [value for value in options if value and value != data["time"]]
    assert free and data["time"] not in options
    browser.shot("2-free-times")
    browser.choose("reschedule-time", free[0])
    browser.by_id("reschedule-time").send_keys(Keys.TAB)  # Enter in a list sends nothing
    button = browser.driver.switch_to.active_element
    assert button.get_attribute("value") == "move"  # the next stop is the main action
    old = browser.find("html")
    button.send_keys(Keys.ENTER)
    browser.wait_for_next_page(old)
    assert_private(browser, code)
    assert "Növbənin vaxtı dəyişdirildi" in browser.find("h1").text
    assert day_text(data["date"], "az") in browser.text and free[0] in browser.text
    browser.shot("3-moved")
    moved = wait_for_mail(data["email"], "booking_rescheduled")
    assert free[0] in text_of(moved)


def test_i17_a_refused_order_code_is_named_in_english_and_its_link_reaches_the_field(
        make_browser):
    browser = make_browser(PHONE, javascript=False)
    browser.open("/reschedule?lang=en")
    browser.fill("reschedule-order_code", "B3NQ-7RTW")
    keyboard_submit(browser, "reschedule-order_code")
    panel = browser.find(".error-summary[role=alert]")
    links = panel.find_elements("css selector", "a")
    assert {a.get_attribute("href").rsplit("#", 1)[1] for a in links} == {
        "reschedule-order_code", "reschedule-date"}
    assert browser.value("reschedule-order_code") == ""  # never written back
    assert "B3NQ-7RTW" not in browser.driver.page_source
    assert browser.by_id("reschedule-order_code").get_attribute("aria-invalid") == "true"
    browser.shot("refused")
    links[0].send_keys(Keys.ENTER)
    assert browser.driver.switch_to.active_element.get_attribute("id").startswith(
        "reschedule-")


def test_i17_a_lost_order_code_is_replaced_and_the_answer_tells_nothing(make_browser):
    data, booking_id, old_code = book_by_api()
    browser = make_browser(PHONE, javascript=False)
    browser.open("/cancel")
    browser.find('main a[href="/order-code"]').click()
    browser.shot("1-form")
    browser.fill("order-code-id_card", data["id_card"])
    browser.fill("order-code-email", data["email"].upper())
    browser.set_date("order-code-date", date.fromisoformat(data["date"]))
    keyboard_submit(browser, "order-code-date")
    assert_private(browser, old_code)
    matched = browser.text
    assert data["email"] not in browser.driver.page_source.lower()
    browser.shot("2-sent")
    new_code = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b", text_of(wait_for_mail(
        data["email"], "booking_order_code_reissued"))).group(1)
    assert new_code != old_code

    browser.open("/order-code")
    browser.fill("order-code-id_card", "AZE00000001")
    browser.fill("order-code-email", "nobody@example.az")
    browser.set_date("order-code-date", date.fromisoformat(data["date"]))
    keyboard_submit(browser, "order-code-date")
    assert browser.text == matched  # the same page: no oracle
