"""The running registry answers for the population `make run` loaded (seed 2026), and
for people its staff register now: by ID card (F-1) and by name (F-2), one person
found, namesakes born the same day refused as ambiguous."""
import random
import string
from datetime import timedelta

import pytest
import requests

from services.registry.names import upper_az
from services.registry.population import FIN_ALPHABET
from shared.vocabulary.clock import baku_today
from shared.runtime.config import service_config
from tests.population import a_loaded_person

pytestmark = pytest.mark.e2e
REGISTRY = "http://" + service_config("registry")["WEB_SERVER_ADDRESS"]
STAFF = {"Authorization": "Bearer registry-dev-token"}


def a_name_nobody_has():
    """A name of letters no generated or registered person has (ten random letters
    after a capital: 26¹⁰ of them)."""
    return "Z" + "".join(random.choice(string.ascii_lowercase) for _ in range(10))


def registered(name, surname, patronymic, born):
    """A person registered now by the registry's staff, with an ID card valid today
    (dates from the run's clock): their FIN. A FIN or card number another person
    holds already (the loaded population is large) is drawn again."""
    today = baku_today()
    for _ in range(10):
        fin = "".join(random.choice(FIN_ALPHABET) for _ in range(7))
        answer = requests.post(f"{REGISTRY}/admin/persons", headers=STAFF, timeout=10, json={
            "fin": fin, "name": name, "surname": surname, "patronymic": patronymic,
            "sex": "F", "birth_date": born,
            "card": {"series_number": f"AZE{random.randrange(10 ** 8):08d}",
                     "issued_on": (today - timedelta(days=400)).isoformat(),
                     "expires_on": (today + timedelta(days=3000)).isoformat()}})
        if answer.status_code == 201:
            return fin
        assert answer.status_code == 409 and answer.json()["error"] in (
            "fin_taken", "card_taken"), answer.text
    raise AssertionError("ten FINs or card numbers in a row were taken")


def by_name(name, surname, patronymic, born):
    return requests.post(f"{REGISTRY}/fin/by-name", timeout=10, json={
        "name": name, "surname": surname, "patronymic": patronymic, "birth_date": born})


def test_f1_a_loaded_person_is_found_by_id_card_and_a_stranger_is_not():
    person, card = a_loaded_person()  # with a card valid today, whenever it was loaded
    by_card = requests.post(f"{REGISTRY}/fin/by-id-card", json={"id_card": card,
                                                                "channel": "web"}, timeout=10)
    assert by_card.status_code == 200 and by_card.json()["fin"] == person.fin
    stranger = requests.post(f"{REGISTRY}/fin/by-id-card", json={"id_card": "AZE00000000"},
                             timeout=10)
    assert stranger.status_code == 404 and stranger.json()["error"] == "not_found"


def test_f2_one_person_of_a_name_is_found_by_it_and_two_namesakes_are_ambiguous():
    surname = a_name_nobody_has() + "ova"
    born = (baku_today() - timedelta(days=30 * 365)).isoformat()
    alone = registered("Elçin", surname, "Kamal qızı", born)
    found = by_name(upper_az("Elçin"), surname, "Kamal qızı", born)  # in capitals, too
    assert found.status_code == 200, found.text
    assert found.json()["fin"] == alone
    # Python's upper() is wrong for Azerbaijani ("Elçin" → "ELÇIN", whose I is ı)
    assert upper_az("Elçin") == "ELÇİN"

    twins = a_name_nobody_has() + "ova"
    registered("Aysel", twins, "Tofiq qızı", born)
    registered("Aysel", twins, "Tofiq qızı", born)
    ambiguous = by_name("Aysel", twins, "Tofiq qızı", born)
    assert ambiguous.status_code == 409, ambiguous.text
    assert ambiguous.json()["error"] == "ambiguous" and "fin" not in ambiguous.json()
    nobody = by_name("Aysel", a_name_nobody_has(), "Tofiq qızı", born)
    assert nobody.status_code == 404 and nobody.json()["error"] == "not_found"
