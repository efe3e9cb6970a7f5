"""The synthetic population of the FIN registry, pure: the data the two lookups need
(F-1: FIN by ID card; F-2: FIN by name, surname, patronymic and birth date) is
there, unique where it must be, ambiguous where it should be, and reproducible."""
import re
from collections import Counter
from datetime import date

import pytest

from services.registry import names
from services.registry.population import (DOCUMENT_COLUMNS, PERSON_COLUMNS, document_row,
                                          generate, names_lists, person_row)

TODAY = date(2026, 11, 22)
SAMPLE = 200_000
FIN = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")        # digits and Latin capitals but I and O
ADULT_CARD = re.compile(r"^AZE\d{8}$")
CHILD_CARD = re.compile(r"^AA\d{7}$")
# The Azerbaijani Latin alphabet (no W, no Cyrillic, no decomposed letters).
LETTERS = set("ABCÇDEƏFGĞHXIİJKQLMNOÖPRSŞTUÜVYZ" "abcçdeəfgğhxıijkqlmnoöprsştuüvyz")


@pytest.fixture(scope="module")
def population():
    return list(generate(SAMPLE, seed=2026, today=TODAY))


@pytest.fixture(scope="module")
def people(population):
    return [person for person, _ in population]


@pytest.fixture(scope="module")
def cards(population):
    return [card for _, person_cards in population for card in person_cards]


def birthday(born, years):
    """The ``years``-th birthday (29 February → 28 February in common years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return born.replace(year=born.year + years, day=28)


def is_adult(born, on):
    return birthday(born, 18) <= on


# --- reproducible ----------------------------------------------------------------

def test_f1_f2_the_same_seed_gives_the_same_people_in_the_same_order(population):
    first = list(generate(5_000, seed=2026, today=TODAY))
    again = list(generate(5_000, seed=2026, today=TODAY))
    assert repr(first) == repr(again)
    assert first == population[:5_000]  # and a longer run starts with the same people


def test_f1_f2_another_seed_gives_other_people():
    one = [person for person, _ in generate(1_000, seed=1)]
    two = [person for person, _ in generate(1_000, seed=2)]
    assert sum(a.fin == b.fin for a, b in zip(one, two)) == 0
    assert sum(a.name == b.name and a.birth_date == b.birth_date for a, b in zip(one, two)) < 50


# --- F-1: FINs and ID cards -------------------------------------------------------

def test_f1_fins_are_unique_seven_characters_without_i_and_o(people):
    fins = [person.fin for person in people]
    assert len(set(fins)) == SAMPLE
    assert all(FIN.match(fin) for fin in fins)
    assert not any("I" in fin or "O" in fin for fin in fins)


def test_f1_card_numbers_are_unique(cards):
    numbers = [card.series_number for card in cards]
    assert len(set(numbers)) == len(numbers)


def test_f1_adults_hold_aze_cards_and_children_aa_cards(population):
    for person, person_cards in population:
        (valid,) = [card for card in person_cards if card.status == "valid"]
        expected = ADULT_CARD if is_adult(person.birth_date, TODAY) else CHILD_CARD
        assert expected.match(valid.series_number), (person, valid)
        for card in person_cards:  # older cards: the series for the age at issue
            expected = ADULT_CARD if is_adult(person.birth_date, card.issued_on) else CHILD_CARD
            assert expected.match(card.series_number), (person, card)


def test_f1_everyone_has_exactly_one_valid_card_in_force(population):
    for person, person_cards in population:
        assert [card.status for card in person_cards].count("valid") == 1
        for card in person_cards:
            assert card.fin == person.fin
            assert person.birth_date <= card.issued_on <= TODAY
            years = 10 if card.series_number.startswith("AZE") else 5
            assert card.expires_on == birthday(card.issued_on, years)
            if card.status == "valid":
                assert card.expires_on > TODAY
                assert card.issued_on > birthday(TODAY, -10)


def test_f1_some_people_also_have_a_replaced_or_lost_card(population):
    statuses = Counter(card.status for _, person_cards in population for card in person_cards)
    assert 0.03 * SAMPLE < statuses["replaced"] < 0.07 * SAMPLE
    assert 0.005 * SAMPLE < statuses["lost"] < 0.015 * SAMPLE
    for _, person_cards in population:  # an older card is older than the valid one
        if len(person_cards) > 1:
            older, valid = person_cards
            assert older.status in ("replaced", "lost") and valid.status == "valid"
            assert older.issued_on < valid.issued_on


# --- F-2: names --------------------------------------------------------------------

def test_f2_some_namesakes_share_a_birth_date(people):
    groups = Counter((p.name, p.surname, p.patronymic, p.birth_date) for p in people)
    ambiguous = [key for key, size in groups.items() if size > 1]
    assert len(ambiguous) >= 0.0005 * SAMPLE  # ~0.1% deliberate twins, plus chance


def test_f2_patronymic_says_son_or_daughter_of_a_man(people):
    fathers = set(names_lists()["male"])
    for person in people:
        suffix = " oğlu" if person.sex == "M" else " qızı"
        assert person.patronymic.endswith(suffix)
        assert person.patronymic[:-len(suffix)] in fathers


def test_f2_name_and_surname_agree_with_sex(people):
    lists = names_lists()
    male_surnames = {male for male, _ in lists["surnames"]}
    female_surnames = {female for _, female in lists["surnames"]}
    for person in people:
        if person.sex == "M":
            assert person.name in lists["male"] and person.surname in male_surnames
        else:
            assert person.name in lists["female"] and person.surname in female_surnames


def test_f2_names_use_only_azerbaijani_letters(people):
    for person in people:
        father = person.patronymic.rsplit(" ", 1)[0]
        for part in (person.name, person.surname, father):
            assert set(part) <= LETTERS, part
            assert part[0].isupper() and part[1:] == part[1:].lower()


def test_f2_names_lists_have_proper_azerbaijani_spellings():
    lists = names_lists()
    male, female = lists["male"], lists["female"]
    surnames = {form for pair in lists["surnames"] for form in pair}
    assert len(male) >= 60 and len(female) >= 60 and len(lists["surnames"]) >= 80
    assert {"Əli", "Hüseyn", "İlham", "Rəşad", "Elçin", "Tural", "Orxan", "Vüqar", "Şahin",
            "Ağa"} <= set(male)
    assert {"Aysel", "Günel", "Leyla", "Nərgiz", "Şəbnəm", "Ülviyyə", "Işıq", "Çinarə",
            "Gülnarə", "Səbinə"} <= set(female)
    everyone = male + female
    assert any(n.startswith("İ") for n in everyone) and any(n.startswith("I") for n in everyone)
    for letter in "əğşçöüı":
        assert any(letter in n for n in everyone), letter
    assert {"Məmmədov", "Məmmədova", "Əliyev", "Əliyeva", "Quliyev", "Quliyeva", "Rzayev",
            "Hüseynzadə", "Süleymanlı", "Cəfərli"} <= surnames
    assert not any("w" in n.lower() for n in everyone)


def test_f2_name_key_is_the_one_of_the_names_module(people):
    for person in people:
        row = person_row(person)
        assert row[-1] == names.name_key(person.name, person.surname, person.patronymic,
                                         person.birth_date)


# --- the rest of the record ----------------------------------------------------------

def test_birth_dates_span_up_to_95_years_and_statuses_are_mostly_citizens(people):
    assert all(birthday(TODAY, -96) < p.birth_date <= TODAY for p in people)
    ages = Counter((TODAY.year - p.birth_date.year) // 10 for p in people)
    assert set(ages) >= set(range(10))
    statuses = Counter(p.status for p in people)
    assert set(statuses) == {"citizen", "permanent_resident", "stateless"}
    assert 0.95 < statuses["citizen"] / SAMPLE < 0.99
    assert 0.45 < Counter(p.sex for p in people)["M"] / SAMPLE < 0.55


def test_rows_follow_the_table_columns(population):
    person, person_cards = population[0]
    row = dict(zip(PERSON_COLUMNS, person_row(person)))
    assert (row["fin"], row["name"], row["surname"], row["patronymic"], row["sex"],
            row["birth_date"], row["status"]) == (person.fin, person.name, person.surname,
                                                  person.patronymic, person.sex,
                                                  person.birth_date, person.status)
    card = dict(zip(DOCUMENT_COLUMNS, document_row(person_cards[0])))
    assert card == vars(person_cards[0])


def test_another_today_moves_the_whole_population():
    today = date(2030, 2, 28)
    for person, person_cards in generate(20_000, seed=5, today=today):
        assert person.birth_date <= today
        (valid,) = [card for card in person_cards if card.status == "valid"]
        assert valid.issued_on <= today < valid.expires_on
        assert (ADULT_CARD if is_adult(person.birth_date, today) else CHILD_CARD).match(
            valid.series_number)
