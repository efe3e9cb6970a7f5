"""Seed 001 on the real PostgreSQL and RabbitMQ: the FIN lookup by ID card (F-1) and
by name (F-2), its uniform refusal (F-4), its throttle (F-5) and audit (F-6)."""
import json
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies
from prometheus_client import REGISTRY

from services.registry.service import RegistryService
from shared.runtime.config import service_config
from tests import days
from tests.clock import Clock
from tests.conftest import unused_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
STAFF = {"Authorization": "Bearer registry-dev-token"}
STAFF_HASH = "f" * 64


@pytest.fixture
def registry(container_factory, rabbit_config, make_database):
    def start(clock=None, **config):
        """``(url, database)`` of a registry started with ``config``; with ``clock`` (a
        :class:`tests.clock.Clock`) its time is the test's to move."""
        import hashlib

        database = make_database(ROOT / "services" / "registry" / "migrations")
        port = unused_port()
        # The shipped config, without the pages' token (a test that needs it gives it).
        container = container_factory(RegistryService, service_config("registry") | dict(
            rabbit_config, DATABASE_URL=database, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            FRONTEND_TOKEN_SHA256=[],
            STAFF_TOKEN_SHA256=[hashlib.sha256(b"registry-dev-token").hexdigest()]) | config)
        if clock is not None:
            replace_dependencies(container, "clock").side_effect = clock
        container.start()
        url = f"http://127.0.0.1:{port}"
        return url, database
    return start


PEOPLE = [
    ("5AB2C7D", "İlham", "Məmmədov", "Əli oğlu", "M", "1985-04-17", "AZE10000001"),
    ("6HJ3K8L", "Işıq", "Süleymanlı", "Rəşid qızı", "F", "1992-11-03", "AZE10000002"),
    ("7MN4P9Q", "Gülnarə", "Şükürova", "Vüqar qızı", "F", "1979-02-28", "AZE10000003"),
    # two people with the same name, patronymic and birth date (F-2: ambiguous)
    ("8RS5T1U", "Elçin", "Quliyev", "Kamal oğlu", "M", "1990-01-01", "AZE10000004"),
    ("9VW6X2Y", "Elçin", "Quliyev", "Kamal oğlu", "M", "1990-01-01", "AZE10000005"),
    ("2ZA7B3C", "Aysel", "Həsənova", "Tofiq qızı", "F", "2012-06-01", "AA1000006"),
]


def populate(url):
    for fin, name, surname, patronymic, sex, born, card in PEOPLE:
        response = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
            "fin": fin, "name": name, "surname": surname, "patronymic": patronymic, "sex": sex,
            "birth_date": born, "card": {"series_number": card, **days.card_dates()}})
        assert response.status_code == 201, response.text


@pytest.fixture
def filled(registry):
    url, database = registry()
    populate(url)
    return url, database


def by_card(url, card, **extra):
    return requests.post(f"{url}/fin/by-id-card", json={"id_card": card, **extra}, timeout=10)


def by_name(url, name, surname, patronymic, born, **extra):
    return requests.post(f"{url}/fin/by-name", timeout=10, json={
        "name": name, "surname": surname, "patronymic": patronymic, "birth_date": born, **extra})


def test_f1_by_id_card(filled):
    url, _ = filled
    assert by_card(url, "AZE10000001").json()["fin"] == "5AB2C7D"
    assert by_card(url, "aze 1000 0001").json()["fin"] == "5AB2C7D"
    assert by_card(url, "AA1000006").json()["fin"] == "2ZA7B3C"  # a child's card


def test_f1_a_replaced_or_lost_card_does_not_answer(filled):
    url, _ = filled
    assert requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF, timeout=10,
                         json={"series_number": "AZE10000002", "status": "lost"}
                         ).status_code == 200
    assert by_card(url, "AZE10000002").status_code == 404
    # a new card replaces the old one, and only the new one answers (F-1)
    assert by_name(url, "Işıq", "Süleymanlı", "Rəşid qızı", "1992-11-03").json()["fin"] == \
        "6HJ3K8L"


@pytest.mark.parametrize("name, surname, patronymic", [
    ("İlham", "Məmmədov", "Əli oğlu"),
    ("İLHAM", "MƏMMƏDOV", "ƏLİ OĞLU"),
    ("ilham", "məmmədov", "əli"),  # without "oğlu"
    ("  İlham ", "Məmmədov", "Əli   oğlu"),
    ("ilham", "m\u04d9mm\u04d9dov", "\u04d8li"),  # Cyrillic schwa for ə
])
def test_f2_by_name_whatever_the_case_spacing_or_form_of_the_letters(filled, name, surname,
                                                                      patronymic):
    url, _ = filled
    answer = by_name(url, name, surname, patronymic, "1985-04-17")
    assert answer.status_code == 200, answer.text
    assert answer.json()["fin"] == "5AB2C7D"


def test_f2_azerbaijani_dotless_i_and_decomposed_letters(filled):
    url, _ = filled
    assert by_name(url, "IŞIQ", "SÜLEYMANLI", "RƏŞİD QIZI", "1992-11-03").json()["fin"] == \
        "6HJ3K8L"
    assert by_name(url, "ışıq", "süleymanlı", "rəşid", "1992-11-03").json()["fin"] == "6HJ3K8L"
    decomposed = [unicodedata.normalize("NFD", text) for text in ("Gülnarə", "Şükürova")]
    assert decomposed[0] != "Gülnarə"
    assert by_name(url, *decomposed, "Vüqar", "1979-02-28").json()["fin"] == "7MN4P9Q"
    # Python's own lower() makes "ILHAM" "ilham": Azerbaijani makes it "ılham", a name of
    # its own; it finds İlham through the lenient key (issue 12), see below.
    assert by_name(url, "ILHAM", "Məmmədov", "Əli", "1985-04-17").json()["fin"] == "5AB2C7D"


def test_f2_exact_match_only(filled):
    url, _ = filled
    assert by_name(url, "İlh", "Məmmədov", "Əli", "1985-04-17").status_code == 404
    assert by_name(url, "İlham%", "Məmmədov", "Əli", "1985-04-17").status_code in (400, 404)


def test_f2_two_people_match_the_answer_is_to_use_the_id_card_never_two_fins(filled):
    url, _ = filled
    answer = by_name(url, "Elçin", "Quliyev", "Kamal oğlu", "1990-01-01")
    assert answer.status_code == 409 and answer.json()["error"] == "ambiguous"
    assert "8RS5T1U" not in answer.text and "9VW6X2Y" not in answer.text
    assert by_card(url, "AZE10000005").json()["fin"] == "9VW6X2Y"


def test_f4_the_refusal_does_not_say_which_field_was_wrong(filled):
    url, _ = filled
    wrong_surname = by_name(url, "İlham", "Əliyev", "Əli", "1985-04-17")
    wrong_date = by_name(url, "İlham", "Məmmədov", "Əli", "1985-04-18")
    wrong_card = by_card(url, "AZE19999999")
    assert wrong_surname.status_code == wrong_date.status_code == wrong_card.status_code == 404
    assert wrong_surname.json() == wrong_date.json() == wrong_card.json()
    assert by_name(url, "İlham", "Məmmədov", "Əli", "1985-04-17").status_code == 200  # again


@pytest.mark.parametrize("body, field", [
    ({"id_card": "123"}, "id_card"), ({"id_card": ""}, "id_card"), ({}, "id_card")])
def test_malformed_card_queries_are_refused_with_reasons(filled, body, field):
    url, _ = filled
    answer = requests.post(f"{url}/fin/by-id-card", json=body, timeout=10)
    assert answer.status_code == 400
    assert field in {r["field"] for r in answer.json()["reasons"]}


def test_malformed_name_queries_are_refused_with_every_reason(filled):
    url, _ = filled
    answer = by_name(url, "İlham1", "", "Əli", "31.04.1985")  # April has 30 days
    assert answer.status_code == 400
    assert {r["field"] for r in answer.json()["reasons"]} >= {"name", "surname", "birth_date"}
    assert all(r["az"] and r["en"] for r in answer.json()["reasons"])


def test_f6_every_query_is_registered_and_the_public_event_has_no_personal_data(filled):
    url, database = filled
    by_card(url, "AZE10000001")
    by_name(url, "İlham", "Əliyev", "Əli", "1985-04-17")
    by_name(url, "Elçin", "Quliyev", "Kamal", "1990-01-01")
    by_card(url, "bad")
    with psycopg.connect(database) as conn:
        audit = conn.execute("SELECT method, outcome, answered_fin, asked, client FROM fin_queries"
                             " ORDER BY asked_at").fetchall()
        bodies = [bytes(row[0]).decode() for row in conn.execute(
            "SELECT body FROM outbox WHERE routing_key = 'FinQueried' ORDER BY id")]
    assert [(m, o) for m, o, *_ in audit] == [("id_card", "found"), ("name", "not_found"),
                                             ("name", "ambiguous"), ("id_card", "invalid")]
    assert audit[0][2] == "5AB2C7D" and audit[0][3]["id_card"] == "AZE10000001"
    assert audit[1][3]["surname"] == "Əliyev" and audit[0][4] == "127.0.0.1"
    outcomes = [json.loads(body)["data"]["outcome"] for body in bodies]
    assert outcomes == ["found", "not_found", "ambiguous", "invalid"]
    for body in bodies:
        for secret in ("5AB2C7D", "AZE10000001", "İlham", "Əliyev", "Quliyev", "1985-04-17",
                       "1990-01-01", "127.0.0.1", "Kamal"):
            assert secret not in body
    with psycopg.connect(database) as conn:  # the registry's own changes stay private
        assert conn.execute("SELECT count(*) FROM outbox WHERE routing_key IN"
                            " ('PersonRegistered', 'IdCardIssued')").fetchone()[0] == 0


def test_f6_concurrent_lookups_are_each_registered_once_and_never_wait_on_each_other(
        registry):
    """No lookup serializes on another's audit (one stream per query): 40 at once all
    answer (none 409 busy or 500), with exactly one audit row and one FinQueried each."""
    import eventlet

    url, database = registry(RATE_LIMITS={"fin_lookup": "6000 per minute, burst 1000"})
    populate(url)
    cards = ["AZE10000001", "AZE10000002", "AZE19999999", "AZE10000003"] * 10
    answers = list(eventlet.GreenPool(40).imap(lambda card: by_card(url, card), cards))
    assert sorted({answer.status_code for answer in answers}) == [200, 404]
    with psycopg.connect(database) as conn:
        audited = conn.execute("SELECT query_id::text FROM fin_queries").fetchall()
        events = conn.execute(
            "SELECT stream_id, version, data ->> 'query_id' FROM events"
            " WHERE event_type = 'FinQueried'").fetchall()
        published = conn.execute("SELECT count(*) FROM outbox WHERE routing_key ="
                                 " 'FinQueried'").fetchone()[0]
    assert len(audited) == len(events) == published == len(cards)
    assert sorted(query for _, _, query in events) == sorted(row[0] for row in audited)
    assert all(stream == f"finquery-{query}" and version == 1
               for stream, version, query in events)


def test_f5_a_client_far_above_human_rates_is_asked_to_wait_never_locked_out(registry):
    """Four lookups at one instant of the registry's clock (a test clock: a busy
    machine cannot spread them over the refill); half a second later, the next."""
    clock = Clock()
    url, database = registry(clock, RATE_LIMITS={"fin_lookup": "120 per minute, burst 3"})
    before = REGISTRY.get_sample_value("asan_fin_throttled_total", {"method": "id_card"}) or 0
    shared = {"service": "registry", "limit": "fin_lookup"}
    limited = REGISTRY.get_sample_value("asan_rate_limited_total", shared) or 0
    answers = [by_card(url, "AZE10000001") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [404, 404, 404, 429]
    assert answers[3].headers["Retry-After"] == "1"
    assert answers[3].json()["reasons"][0]["code"] == "slow_down"
    assert REGISTRY.get_sample_value("asan_fin_throttled_total", {"method": "id_card"}) == \
        before + 1
    assert REGISTRY.get_sample_value("asan_rate_limited_total", shared) == limited + 1
    clock.now += timedelta(milliseconds=499)  # two a second refill: not yet
    assert by_card(url, "AZE10000001").status_code == 429
    clock.now += timedelta(milliseconds=1)
    assert by_card(url, "AZE10000001").status_code == 404
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM fin_queries WHERE outcome = 'throttled'"
                            ).fetchone()[0] == 2


def test_staff_changes_refuse_bad_input_with_reasons_and_need_the_token(filled):
    url, _ = filled
    bad = requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF,
                        json={"series_number": "AZE10000001", "status": "stolen"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["reasons"][0]["field"] == "status"
    assert by_card(url, "AZE10000001").status_code == 200  # nothing was changed
    person = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": "IIIIIII", "name": "X", "surname": "Y", "patronymic": "Z", "sex": "Q",
        "birth_date": "nope", "card": {"series_number": "123"}})
    assert person.status_code == 400
    assert {r["field"] for r in person.json()["reasons"]} >= {"fin", "sex", "birth_date",
                                                              "card.series_number"}
    assert requests.post(f"{url}/admin/id-cards/invalidate", timeout=10, json={
        "series_number": "AZE10000001", "status": "lost"}).status_code == 401
    # the old route carried the number in the URL: it is gone, and says where to go
    old = requests.post(f"{url}/admin/id-cards/AZE10000001/invalidate", headers=STAFF,
                        json={"status": "lost"}, timeout=10)
    assert old.status_code == 410 and old.json()["error"] == "moved_to_body"
    assert by_card(url, "AZE10000001").status_code == 200


def test_f5_the_citizen_pages_are_throttled_per_citizen_only_with_their_token(registry):
    """The pages ask for many citizens from one address: with their token the throttle
    counts the address they forward; without it, a forwarded address is ignored."""
    import hashlib

    url, database = registry(Clock(), RATE_LIMITS={"fin_lookup": "60 per minute, burst 2"},
                             FRONTEND_TOKEN_SHA256=[hashlib.sha256(b"pages").hexdigest()])

    def ask(citizen, token=None):
        headers = {"X-Asan-Client-Address": citizen}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(f"{url}/fin/by-id-card", json={"id_card": "AZE10000001"},
                             headers=headers, timeout=10).status_code

    assert [ask("10.0.0.1", "pages"), ask("10.0.0.1", "pages"), ask("10.0.0.1", "pages")] == \
        [404, 404, 429]
    assert [ask("10.0.0.2", "pages"), ask("10.0.0.2", "pages")] == [404, 404]  # another citizen
    # Without the token (or with a wrong one) the header is not believed.
    assert [ask("10.0.0.3"), ask("10.0.0.4", "guess"), ask("10.0.0.5")] == [404, 404, 429]
    with psycopg.connect(database) as conn:
        clients = {row[0] for row in conn.execute("SELECT DISTINCT client FROM fin_queries")}
    assert clients == {"10.0.0.1 via web", "10.0.0.2 via web", "127.0.0.1"}


# --- issue 12: one canonical form; F-2 with I for İ -----------------------------------

ARABIC_INDIC, FULL_WIDTH, DEVANAGARI = "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९"


def spelled(text, digits):
    return "".join(digits[int(c)] if c.isascii() and c.isdigit() else c for c in text)


def register(url, fin, name, surname, patronymic, born, card, sex="F"):
    response = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": fin, "name": name, "surname": surname, "patronymic": patronymic, "sex": sex,
        "birth_date": born, "card": {"series_number": card, **days.card_dates()}})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH, DEVANAGARI])
def test_f1_the_id_card_in_any_scripts_digits(filled, digits):
    url, _ = filled
    assert by_card(url, spelled("AZE10000001", digits)).json()["fin"] == "5AB2C7D"
    assert by_card(url, spelled("AA 100-0006", digits)).json()["fin"] == "2ZA7B3C"


def test_f1_a_card_registered_in_other_digits_is_stored_canonical(registry):
    url, database = registry()
    register(url, spelled("3DE4F5G", ARABIC_INDIC).lower(), "Nərmin", "Əliyeva", "Tofiq qızı",
             "08.03.1995", spelled("aze 3000 0001", FULL_WIDTH))
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT fin, series_number FROM id_documents").fetchall() == \
            [("3DE4F5G", "AZE30000001")]
    assert by_card(url, "AZE30000001").json()["fin"] == "3DE4F5G"


@pytest.mark.parametrize("name, surname, patronymic", [
    ("AYGÜL", "IBRAHIMOVA", "RAMIL QIZI"),  # as the ID card's machine-readable zone has it
    ("Aygül", "Ibrahimova", "Ramil qizi"),  # as an English keyboard types it
    ("aygül", "ibrahimova", "ramıl"),
    ("AYGÜL", "i\u0307brahi\u0307mova", "RAMİL"),  # i + combining dot above is İ
])
def test_f2_by_name_with_i_for_i_dotted(registry, name, surname, patronymic):
    url, _ = registry()
    register(url, "4GH5J6K", "Aygül", "İbrahimova", "Ramil qızı", "1988-07-21", "AZE40000001")
    register(url, "5KL6M7N", "İsmayıl", "Quliyev", "İlham oğlu", "1975-12-02", "AZE40000002",
             sex="M")
    answer = by_name(url, name, surname, patronymic, "1988-07-21")
    assert answer.status_code == 200, answer.text
    assert answer.json()["fin"] == "4GH5J6K"
    assert by_name(url, "ISMAYIL", "QULIYEV", "ILHAM OGLU", "1975-12-02").json()["fin"] == \
        "5KL6M7N"


def test_f2_a_name_registered_with_a_combining_dot_is_found_either_way(registry):
    url, _ = registry()
    register(url, "6NP7Q8R", "Fi\u0307dan", "Həsənli", "Vi\u0307dadi qızı", "2001-09-09",
             "AZE40000003")
    assert by_name(url, "Fidan", "Həsənli", "Vidadi", "2001-09-09").json()["fin"] == "6NP7Q8R"
    assert by_name(url, "FIDAN", "HƏSƏNLI", "VIDADI QIZI", "2001-09-09").json()["fin"] == \
        "6NP7Q8R"


def test_f2_when_the_lenient_key_names_two_people_the_answer_is_ambiguous(registry):
    """Never a FIN that is not certain: "Kərimli" and "Kərimlı" are two people whose
    keys differ only in the dots of an i. Typed either way, or in capitals, the
    answer is to search by ID card — even when one spelling matches exactly."""
    url, _ = registry()
    register(url, "7QR8S9T", "Aysel", "Kərimli", "Tofiq qızı", "2000-05-05", "AZE40000004")
    register(url, "8ST9U2V", "Aysel", "Kərimlı", "Tofiq qızı", "2000-05-05", "AZE40000005")
    for surname in ("Kərimli", "Kərimlı", "KƏRIMLI", "KƏRİMLİ"):
        answer = by_name(url, "Aysel", surname, "Tofiq", "2000-05-05")
        assert answer.status_code == 409 and answer.json()["error"] == "ambiguous", surname
        assert "7QR8S9T" not in answer.text and "8ST9U2V" not in answer.text
    assert by_name(url, "Aysel", "Kərimov", "Tofiq", "2000-05-05").status_code == 404


def test_f2_the_lenient_lookup_uses_its_index(filled):
    """The migration's expression index is the one the query spells (schema.LENIENT_KEY)."""
    from services.registry import names
    from services.registry.schema import LENIENT_KEY

    _, database = filled
    with psycopg.connect(database) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN SELECT fin FROM persons WHERE {LENIENT_KEY} = %s LIMIT 2", ("x",)))
        stored = conn.execute(f"SELECT name_key, {LENIENT_KEY} FROM persons").fetchall()
    assert "persons_name_mrz_idx" in plan
    assert all(lenient == names.lenient(key) for key, lenient in stored)


@pytest.mark.parametrize("born", ["9999-12-31", "0001-01-01", "31.12.9999"])
def test_f2_a_birth_date_out_of_range_is_a_400_not_a_500(filled, born):
    url, _ = filled
    answer = by_name(url, "İlham", "Məmmədov", "Əli", born)
    assert answer.status_code == 400
    assert ("birth_date", "out_of_range") in {(r["field"], r["code"])
                                             for r in answer.json()["reasons"]}


def test_f1_f2_rows_stored_before_take_the_canonical_forms(make_database):
    """Migrations 0403 and 0404: a name key with i + combining dot above, and a card
    number in other digits, stored before issue 12; a card whose canonical number is
    already stored stays as it was (two cards cannot share a number)."""
    from yoyo import get_backend, read_migrations

    from services.registry import names
    from shared.runtime.db import PLATFORM_MIGRATIONS, apply_migrations, yoyo_url

    folder = ROOT / "services" / "registry" / "migrations"
    database = make_database()
    backend = get_backend(yoyo_url(database))
    before = read_migrations(str(PLATFORM_MIGRATIONS), str(folder)).filter(
        lambda migration: migration.id not in ("0403_registry_lenient_name_key",
                                               "0404_canonical_series_numbers"))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(before))
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO persons VALUES ('6NP7Q8R', 'Fi\u0307dan', 'Həsənli',"
                     " 'Vidadi qızı', 'F', '2001-09-09', 'citizen',"
                     " 'fi\u0307dan|həsənli|vidadi|2001-09-09')")
        for number in (spelled("AZE40000003", ARABIC_INDIC), spelled("AZE40000004", DEVANAGARI),
                       "AZE40000004"):
            card = days.card_dates()
            conn.execute("INSERT INTO id_documents VALUES (%s, '6NP7Q8R', %s, %s, 'valid')",
                         (number, card["issued_on"], card["expires_on"]))
    assert apply_migrations(database, folder) == ["0403_registry_lenient_name_key",
                                                  "0404_canonical_series_numbers"]
    with psycopg.connect(database) as conn:
        key = conn.execute("SELECT name_key FROM persons").fetchone()[0]
        numbers = sorted(row[0] for row in conn.execute("SELECT series_number FROM id_documents"))
    assert key == names.name_key("Fidan", "Həsənli", "Vidadi qızı", date(2001, 9, 9))
    assert numbers == sorted(["AZE40000003", "AZE40000004", spelled("AZE40000004", DEVANAGARI)])


def test_f2_the_names_as_the_id_cards_machine_readable_zone_prints_them(filled):
    """ICAO 9303 writes every Azerbaijani letter as a plain Latin one (Ş→S, Ü→U, Ə→A,
    Ç→C, Ğ→G, Ö→O, İ/ı→I): that spelling, and full-width letters, find the person."""
    url, _ = filled
    assert by_name(url, "GULNARA", "SUKUROVA", "VUQAR QIZI", "1979-02-28").json()["fin"] == \
        "7MN4P9Q"
    assert by_name(url, "ＩＬＨＡＭ", "MAMMADOV", "ALI OGLU", "1985-04-17").json()["fin"] == \
        "5AB2C7D"
    assert by_name(url, "Gülnarə", "Şükürova", "Vüqar qızı", "1979-2-28").json()["fin"] == \
        "7MN4P9Q"
