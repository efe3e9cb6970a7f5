"""The registry staff's changes refuse what cannot be done, by name (issue 12 §9)."""
import pytest
import requests

from .test_lookup import PEOPLE, STAFF, by_card, filled, registry  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


def test_a_fin_that_exists_is_not_registered_twice(filled):
    url, _ = filled
    fin, name, surname, patronymic, sex, born, _card = PEOPLE[0]
    again = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": fin, "name": name, "surname": surname, "patronymic": patronymic, "sex": sex,
        "birth_date": born, "card": {"series_number": "AZE19999999", "issued_on": "2020-01-01",
                                     "expires_on": "2030-01-01"}})
    assert again.status_code == 409 and again.json()["error"] == "fin_taken"
    assert by_card(url, "AZE19999999").status_code == 404  # nothing half-written


def test_only_a_valid_card_can_be_invalidated(filled):
    url, _ = filled
    unknown = requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF, timeout=10,
                            json={"series_number": "AZE19999998", "status": "lost"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "no_valid_card"


def test_a_card_number_already_issued_is_not_issued_again(filled):
    """Before, the unique index refused it and the command ran five times and answered
    409 busy ("try again"), which would never help."""
    url, _ = filled
    taken = PEOPLE[0][6]
    answer = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": "3CD4E5F", "name": "Leyla", "surname": "Əliyeva", "patronymic": "Əli qızı",
        "sex": "F", "birth_date": "1990-01-01", "card": {
            "series_number": taken, "issued_on": "2020-01-01", "expires_on": "2030-01-01"}})
    assert answer.status_code == 409 and answer.json()["error"] == "card_taken"
    assert answer.json()["reasons"][0]["field"] == "card.series_number"
