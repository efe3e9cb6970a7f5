"""F-2 name folding and the F-5 throttle, pure."""
import unicodedata
from datetime import date

from services.registry import names
from services.registry.lookup import Throttle


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
    throttle = Throttle(per_minute=60, burst=2)
    assert throttle.take("a", now=0) == 0 and throttle.take("a", now=0) == 0
    assert throttle.take("a", now=0) > 0  # a third at once: wait about a second
    assert throttle.take("b", now=0) == 0  # other clients are not affected
    assert throttle.take("a", now=1.01) == 0  # a second later it answers again
