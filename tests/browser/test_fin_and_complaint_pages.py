"""Seed 001 §3.2 (F-1, F-2, F-4) and complaints (C-1, C-2) through the pages."""
import re
import uuid

import pytest

from tests.population import a_loaded_person
from tests.mailbox import text_of, wait_for_mail

pytestmark = pytest.mark.e2e


def test_f1_f2_a_fin_is_found_by_id_card_and_by_name(browser):
    person, card = a_loaded_person()
    browser.open("/fin")
    browser.shot("1-form")
    browser.fill("fin-id_card-id_card", card)
    browser.press("form:first-of-type button.primary")
    assert browser.by_id("fin").text == person.fin  # F-1
    browser.shot("2-by-card")

    browser.open("/fin")
    browser.fill("fin-name-name", person.name)
    browser.fill("fin-name-surname", person.surname)
    browser.fill("fin-name-patronymic", person.patronymic)
    browser.set_date("fin-name-birth_date", person.birth_date)
    browser.press("form:last-of-type button.primary")
    assert browser.by_id("fin").text == person.fin  # F-2
    browser.shot("3-by-name")


def test_f4_a_wrong_card_or_name_gets_one_uniform_refusal(desktop):
    browser = desktop
    person, card = a_loaded_person()
    browser.open("/fin")
    browser.fill("fin-id_card-id_card", "AZE00000000")
    browser.press("form:first-of-type button.primary")
    by_card = browser.find(".error-summary[role=alert]").text
    assert browser.value("fin-id_card-id_card") == "AZE00000000"
    browser.shot("1-card")

    browser.open("/fin")
    browser.fill("fin-name-name", person.name)
    browser.fill("fin-name-surname", person.surname)
    browser.fill("fin-name-patronymic", person.patronymic)
    browser.set_date("fin-name-birth_date", person.birth_date.replace(year=1901))
    browser.press("form:last-of-type button.primary")
    by_name = browser.find(".error-summary[role=alert]").text
    assert by_card == by_name  # F-4: one message whichever field was wrong
    assert "tapılmadı" in by_card
    assert browser.value("fin-name-surname") == person.surname
    browser.shot("2-name")


def test_c1_c2_a_complaint_is_filed_and_acknowledged_with_its_reference(desktop):
    browser = desktop
    email = f"complainant-{uuid.uuid4().hex[:10]}@example.az"
    browser.open("/complaint")
    browser.shot("1-form")
    browser.choose("complaint-service", "queue_booking")
    browser.fill("complaint-text", "Növbə saytı təsdiqedici şifrəni göndərmədi.")
    browser.press("button.primary")  # C-2: no identity given
    panel = browser.find(".error-summary[role=alert]").text
    for words in ("Ad göstərilməlidir", "Ata adı göstərilməlidir", "Soyad göstərilməlidir",
                  "Ünvan göstərilməlidir", "E-poçt və ya poçt ünvanı"):
        assert words in panel
    assert browser.value("complaint-text").startswith("Növbə saytı")
    browser.shot("2-refused")

    for field, value in (("name", "Rəşad"), ("patronymic", "Elçin oğlu"),
                         ("surname", "Hüseynzadə"), ("address", "Gəncə, Atatürk pr. 5"),
                         ("email", email)):
        browser.fill(f"complaint-{field}", value)
    browser.press("button.primary")
    reference = browser.by_id("reference").text
    assert re.fullmatch(r"SK-\d{8}-\w+", reference)
    assert "Şikayətiniz qəbul edildi" in browser.text
    browser.shot("3-acknowledged")
    assert reference in text_of(wait_for_mail(email, "complaint_acknowledged"))  # C-1
