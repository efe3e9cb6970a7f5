"""The registry staff's changes refuse what cannot be done, by name (issue 12 §9)."""
import psycopg
import pytest
import requests

from tests import days

from .test_lookup import PEOPLE, STAFF, by_card, filled, registry  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


def test_a_fin_that_exists_is_not_registered_twice(filled):
    url, database = filled
    fin, name, surname, patronymic, sex, born, _card = PEOPLE[0]
    card = {"series_number": "AZE19999999", **days.card_dates()}  # valid: it would answer
    again = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": fin, "name": name, "surname": surname, "patronymic": patronymic, "sex": sex,
        "birth_date": born, "card": card})
    assert again.status_code == 409 and again.json()["error"] == "fin_taken"
    # nothing half-written: the card is in no table nor event, and no lookup finds it…
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM id_documents WHERE series_number = %s",
                            (card["series_number"],)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM events WHERE data::text LIKE %s",
                            (f"%{card['series_number']}%",)).fetchone()[0] == 0
    assert by_card(url, card["series_number"]).status_code == 404
    # …where the same card, issued to someone new, is found: the checks above can fail
    issued = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": "3CD4E5F", "name": "Leyla", "surname": "Əliyeva", "patronymic": "Əli qızı",
        "sex": "F", "birth_date": "1990-01-01", "card": card})
    assert issued.status_code == 201, issued.text
    assert by_card(url, card["series_number"]).json()["fin"] == "3CD4E5F"


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
            "series_number": taken, **days.card_dates()}})
    assert answer.status_code == 409 and answer.json()["error"] == "card_taken"
    assert answer.json()["reasons"][0]["field"] == "card.series_number"
