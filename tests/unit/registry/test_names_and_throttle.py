"""F-2 name folding and the F-5 throttle, pure."""
import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest

from services.registry import names
from shared.runtime.config import service_config
from shared.edge import ratelimit


def test_f2_azerbaijani_case_rules_not_pythons():
    assert names.lower_az("İLHAM") == "ilham"
    assert names.lower_az("IŞIQ") == "ışıq"
    assert "İLHAM".lower() != "ilham"  # why we do not use str.lower
    assert names.upper_az("ışıq") == "IŞIQ" and names.upper_az("ilham") == "İLHAM"


def test_f2_every_way_of_typing_a_name_folds_to_one_form():
    forms = ["Gülnarə", unicodedata.normalize("NFD", "Gülnarə"), "GÜLNARƏ", "gülnar\u04d9",
             "gülnar\u01dd", "  Gülnarə  "]
    assert {names.fold(form) for form in forms} == {"gülnarə"}


def test_f2_the_patronymic_with_or_without_oglu_or_qizi():
    assert names.patronymic_base("Əli oğlu") == names.patronymic_base("ƏLİ") == "əli"
    assert names.patronymic_base("Rəşid qızı") == "rəşid"
    assert names.patronymic_base("Oğlu") == "oğlu"  # a name that is only the word stays


def test_f2_the_key_is_exact_not_a_prefix():
    born = date(1985, 4, 17)
    assert names.name_key("İlham", "Məmmədov", "Əli oğlu", born) == "ilham|məmmədov|əli|1985-04-17"
    assert names.name_key("İlh", "Məmmədov", "Əli", born) != \
        names.name_key("İlham", "Məmmədov", "Əli", born)


def test_f5_the_throttle_refills_by_itself_and_never_locks_out():
    """The registry's limit, by the shared limiter's rule (shared.edge.ratelimit)."""
    limit = ratelimit.parse("fin_lookup", "60 per minute, burst 2")
    start = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    tat = None
    for _ in range(2):
        decision = ratelimit.decide(limit, tat, start)
        assert decision.admitted
        tat = decision.tat
    third = ratelimit.decide(limit, tat, start)  # a third at once: wait a second
    assert not third.admitted and third.wait == timedelta(seconds=1)
    assert ratelimit.decide(limit, None, start).admitted  # other clients are not affected
    assert ratelimit.decide(limit, tat, start + timedelta(seconds=1.01)).admitted


def test_f5_the_registry_default_is_far_above_what_a_person_types():
    limit = ratelimit.parse("fin_lookup", service_config("registry")["RATE_LIMITS"]["fin_lookup"])
    assert (limit.count, limit.period, limit.burst) == (60, timedelta(minutes=1), 30)


# --- F-2: the lenient key (issue 12): İ, I, ı and i fold together ---------------------

BORN = date(1990, 1, 1)


@pytest.mark.parametrize("typed, registered", [
    (("IBRAHIM", "IBRAHIMOVA", "ISMAYIL QIZI"), ("İbrahim", "İbrahimova", "İsmayıl qızı")),
    (("Leyla", "Ismayilova", "RAMIL QIZI"), ("Leyla", "İsmayılova", "Ramil qızı")),
    (("ILHAM", "MAMMADOV", "ALI"), ("İlham", "Mammadov", "Ali")),
    (("ilham", "mammadov", "ali oglu"), ("İlham", "Mammadov", "Ali oğlu")),
    (("Ramil", "Qiliclı", "Tofiq qızi"), ("Ramil", "Qılıclı", "Tofiq qızı")),
])
def test_f2_typed_with_i_for_i_dotted_or_dotless_the_lenient_keys_match(typed, registered):
    assert names.lenient_key(*typed, BORN) == names.lenient_key(*registered, BORN)


def test_f2_the_exact_key_keeps_the_dots_apart():
    """Before issue 12 the lookup matched on the exact key only: these found nobody."""
    assert names.name_key("IBRAHIM", "IBRAHIMOVA", "ISMAYIL QIZI", BORN) != \
        names.name_key("İbrahim", "İbrahimova", "İsmayıl qızı", BORN)


def test_f2_the_lenient_key_is_the_exact_key_as_the_machine_readable_zone_writes_it():
    """PostgreSQL computes it from the stored key: translate(name_key, 'ıəüöğşç',
    'iauogsc'); "VUQAR QIZI" (as the ID card's MRZ prints it) finds Vüqar qızı."""
    key = names.name_key("Işıq", "Süleymanlı", "Rəşid qızı", BORN)
    assert key == "ışıq|süleymanlı|rəşid|1990-01-01"
    assert names.lenient_key("Işıq", "Süleymanlı", "Rəşid qızı", BORN) == \
        "isiq|suleymanli|rasid|1990-01-01"
    assert names.lenient_key("NƏRGIZ", "ISAYEVA", "VUQAR QIZI", BORN) == \
        names.lenient_key("Nərgiz", "İsayeva", "Vüqar qızı", BORN)


def test_f2_full_width_letters_are_the_plain_letters():
    assert names.fold("ＩＢＲＡＨＩＭＯＶＡ") == names.fold("IBRAHIMOVA")


def test_f2_i_with_a_combining_dot_above_is_i():
    """What Python's own lower() makes of İ, and what some keyboards type."""
    assert "İ".lower() == "i\u0307"
    assert names.fold("i\u0307lham") == names.fold("İlham") == "ilham"
    assert names.fold("I\u0307LHAM") == "ilham"  # capital I + dot above is İ
    assert names.fold("ı\u0307lham") == "ilham"
    assert names.name_key("i\u0307lham", "Məmmədov", "Əli", BORN) == \
        names.name_key("İlham", "Məmmədov", "Əli", BORN)


def test_f2_the_mrz_spelling_is_the_same_person_and_other_letters_stay_apart():
    """As the machine-readable zone writes Gülnarə Şükürova: the same lenient key.
    Any other letter is another name (exact match on the key, no fuzziness)."""
    assert names.lenient_key("Gülnarə", "Şükürova", "Vüqar", BORN) == \
        names.lenient_key("GULNARA", "SUKUROVA", "VUQAR", BORN)
    assert names.lenient_key("Gülnarə", "Şükürova", "Vüqar", BORN) != \
        names.lenient_key("Gülnaz", "Şükürova", "Vüqar", BORN)
