"""The running registry answers for the population `make run` loaded (seed 2026)."""
import pytest
import requests

from services.registry.names import upper_az
from tests.population import a_loaded_person
from shared.config import service_config

pytestmark = pytest.mark.e2e
REGISTRY = "http://" + service_config("registry")["WEB_SERVER_ADDRESS"]


def test_f1_f2_a_loaded_person_is_found_both_ways_and_a_stranger_is_not():
    person, card = a_loaded_person()  # with a card valid today, whenever it was loaded
    by_card = requests.post(f"{REGISTRY}/fin/by-id-card", json={"id_card": card,
                                                                "channel": "web"}, timeout=10)
    assert by_card.status_code == 200 and by_card.json()["fin"] == person.fin
    by_name = requests.post(f"{REGISTRY}/fin/by-name", timeout=10, json={
        "name": upper_az(person.name), "surname": person.surname,
        "patronymic": person.patronymic, "birth_date": person.birth_date.isoformat()})
    assert by_name.status_code in (200, 409)  # 409 if this person has a namesake twin
    if by_name.status_code == 200:
        assert by_name.json()["fin"] == person.fin
    # Python's upper() is wrong for Azerbaijani ("Elçin" → "ELÇIN", whose I is ı)
    assert upper_az("Elçin") == "ELÇİN"
    stranger = requests.post(f"{REGISTRY}/fin/by-id-card", json={"id_card": "AZE00000000"},
                             timeout=10)
    assert stranger.status_code == 404
