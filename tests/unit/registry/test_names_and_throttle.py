"""F-2 name folding and the F-5 throttle, pure."""
import unicodedata
from datetime import date, datetime, timedelta, timezone

from services.registry import names
from services.registry.service import RegistryService
from shared import ratelimit


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
    """The registry's limit, by the shared limiter's rule (shared.ratelimit)."""
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
    limit = ratelimit.parse("fin_lookup", RegistryService.limits.defaults["fin_lookup"])
    assert (limit.count, limit.period, limit.burst) == (60, timedelta(minutes=1), 30)
