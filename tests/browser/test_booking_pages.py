"""Seed 000 through the pages in a real browser: the annex form, the free times of the
day, the code from the email, the summary; cancelling with the order code; a refusal
listing every reason (Q-5)."""
from datetime import date
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.booking.conftest import (BOOKING, REF, form, free_slot, new_email, new_id_card,
                                       new_phone)
from shared.vocabulary.dates import day_text
from tests.mailbox import confirmation_code, order_code, wait_for_mail

pytestmark = pytest.mark.e2e


def fill_applicant(browser, data):
    for name in ("name", "surname", "patronymic", "id_card", "phone", "email"):
        browser.fill(f"booking-{name}", data[name])


def assert_no_query(browser):
    """No personal data in URLs: every step is a POST to a bare path."""
    assert not urlsplit(browser.url).query, browser.url


def test_q1_to_q4_a_full_booking_through_the_pages(browser):
    centre, day, at = free_slot()
    data = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": new_id_card(), "phone": new_phone(), "email": new_email()}
    browser.open("/booking")
    assert browser.find("html").get_attribute("lang") == "az"
    browser.shot("1-form")
    fill_applicant(browser, data)
    browser.choose("booking-service", "passport")
    browser.choose("booking-centre", centre)
    browser.set_date("booking-date", date.fromisoformat(day.isoformat()))
    browser.press("button[value=slots]")  # "show free times": works without JavaScript
    assert_no_query(browser)
    times = [o.get_attribute("value") for o in browser.all("#booking-time option")]
    assert at in times
    assert browser.value("booking-id_card") == data["id_card"]  # what was typed is kept
    browser.shot("2-free-times")
    browser.choose("booking-time", at)
    browser.press("button.primary[value=send_code]")
    assert_no_query(browser)
    assert "e-poçt ünvanınıza göndərildi" in browser.text
    browser.shot("3-code")

    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    browser.fill("booking-code", code)
    browser.press("button.primary")
    assert_no_query(browser)
    page = browser.text
    assert "Növbə qeydə alındı" in page
    for expected in (day_text(day, "az"), at, REF.centres[centre].az, "təsdiq edilib",
                     "Məmmədova Leyla Əli qızı", data["email"]):
        assert expected in page
    assert data["id_card"] not in browser.driver.page_source  # not carried to the result
    browser.shot("4-summary")
    code = order_code(wait_for_mail(data["email"], "booking_order_code"))
    assert code.replace("-", "") not in page.replace("-", "")  # only by email


def book_by_api():
    data = form()
    booking_id = requests.post(f"{BOOKING}/bookings", json=data, timeout=30).json()["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    confirmed = requests.post(f"{BOOKING}/bookings/{booking_id}/confirm", json={"code": code},
                              timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    return data, booking_id, order_code(wait_for_mail(data["email"], "booking_order_code"))


def test_cancel_a_booking_with_its_order_code(browser):
    data, booking_id, code = book_by_api()
    browser.open("/cancel")
    browser.shot("1-form")
    browser.fill("cancel-order_code", code)
    browser.press("button.primary")
    assert "Növbə ləğv olundu" in browser.text
    assert "ləğv edilib" in browser.text
    assert booking_id not in browser.driver.page_source  # an internal id (issue 23 §6)
    browser.shot("2-cancelled")
    wait_for_mail(data["email"], "booking_cancelled")
    # the code no longer names an active booking: refused, the code kept in the field
    browser.open("/cancel")
    browser.fill("cancel-order_code", code)
    browser.press("button.primary")
    assert browser.all(".error-summary[role=alert]")
    assert browser.value("cancel-order_code") == code
    browser.shot("3-refused")


@pytest.mark.parametrize("lang", ["az", "en"])
def test_q5_a_refusal_lists_every_reason_and_keeps_what_was_typed(browser, lang):
    centre, day, _ = free_slot()
    typed = {"name": "L3yla", "surname": "Məmmədova", "patronymic": "",
             "id_card": "AZE123", "phone": "12", "email": "leyla@"}
    browser.open(f"/booking?lang={lang}")  # the language switch (no personal data)
    assert browser.find("html").get_attribute("lang") == lang
    fill_applicant(browser, typed)
    browser.choose("booking-service", "passport")
    browser.choose("booking-centre", centre)
    browser.set_date("booking-date", day)
    browser.press("button.primary[value=send_code]")  # no time chosen either

    expected = requests.post(f"{BOOKING}/bookings", timeout=30, json={
        k: v for k, v in dict(typed, service="passport", centre=centre,
                              date=day.isoformat()).items() if v}).json()["reasons"]
    wrong = {r["field"] for r in expected}
    assert wrong == {"name", "patronymic", "id_card", "phone", "email", "time"}
    panel = browser.find(".error-summary[role=alert]")
    items = sorted(li.text for li in panel.find_elements("css selector", "li"))
    labels = {"az": {"name": "Ad", "patronymic": "Ata adı", "id_card": "Ş/V seriyası və nömrəsi",
                     "phone": "Telefon", "email": "E-poçt", "time": "Saat"},
              "en": {"name": "Name", "patronymic": "Patronymic", "phone": "Phone",
                     "id_card": "ID card series and number", "email": "Email", "time": "Time"}}
    # every reason, in the chosen language, named by the field's label
    assert items == sorted(f"{labels[lang][r['field']]}: {r[lang]}" for r in expected)
    links = {a.get_attribute("href").rsplit("#", 1)[1]
             for a in panel.find_elements("css selector", "a")}
    assert links == {f"booking-{field}" for field in wrong}
    for field in wrong:  # and next to each field, announced with it
        element = browser.by_id(f"booking-{field}")
        assert element.get_attribute("aria-invalid") == "true"
        error = browser.by_id(f"booking-{field}-error")
        assert f"booking-{field}-error" in element.get_attribute("aria-describedby")
        assert error.text
    for field, value in typed.items():
        assert browser.value(f"booking-{field}") == value
    assert browser.value("booking-centre") == centre
    assert browser.value("booking-date") == f"{day:%d.%m.%Y}"  # as typed
    assert browser.value("booking-surname") and not browser.all(
        "#booking-surname[aria-invalid]")
    browser.shot("refusal")


def test_q6_a_wrong_code_is_refused_next_to_the_code_field_and_never_kept(browser):
    centre, day, at = free_slot()
    data = {"name": "Murad", "surname": "Əliyev", "patronymic": "Vüqar oğlu",
            "id_card": new_id_card(), "phone": "+994 55 765 43 21", "email": new_email()}
    browser.open("/booking")
    fill_applicant(browser, data)
    browser.choose("booking-service", "passport")
    browser.choose("booking-centre", centre)
    browser.set_date("booking-date", day)
    browser.press("button[value=slots]")
    browser.choose("booking-time", at)
    browser.press("button.primary[value=send_code]")
    right = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    browser.fill("booking-code", wrong)
    browser.press("button.primary")
    assert browser.find(".error-summary[role=alert]")
    assert browser.by_id("booking-code").get_attribute("aria-invalid") == "true"
    assert browser.value("booking-code") == ""  # the code is never sent back
    browser.shot("wrong-code")
    browser.fill("booking-code", right)  # the same page still confirms
    browser.press("button.primary")
    assert "Növbə qeydə alındı" in browser.text
