"""The registry loader on the real PostgreSQL: a synthetic population lands in
persons and id_documents with the indexes of the two lookups (F-1 by ID card, F-2 by
name and birth date) rebuilt, in one transaction, and is never loaded twice by
accident."""
from pathlib import Path

import psycopg
import pytest

from services.registry import loader, names
from services.registry.loader import RegistryNotEmpty, load
from services.registry.schema import LENIENT_KEY

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "registry" / "migrations"
PEOPLE = 1_000


@pytest.fixture
def registry(make_database):
    return make_database(MIGRATIONS)


def scalar(url, sql):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def test_f1_f2_loads_people_and_their_cards(registry):
    summary = load(registry, PEOPLE, seed=7, progress=False)

    assert summary["people"] == PEOPLE == scalar(registry, "SELECT count(*) FROM persons")
    assert summary["documents"] == scalar(registry, "SELECT count(*) FROM id_documents")
    assert summary["documents"] > PEOPLE
    assert summary["seconds"] > 0
    # F-1: every card names a person, and everyone has exactly one valid card
    assert scalar(registry, "SELECT count(*) FROM id_documents d"
                            " WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.fin = d.fin)") == 0
    assert scalar(registry, "SELECT count(*) FROM (SELECT fin FROM id_documents"
                            " WHERE status = 'valid' GROUP BY fin HAVING count(*) = 1) x") == PEOPLE


def test_f2_name_key_is_the_one_of_the_names_module(registry):
    load(registry, PEOPLE, seed=7, progress=False)
    with psycopg.connect(registry) as conn:
        rows = conn.execute("SELECT name, surname, patronymic, birth_date, name_key"
                            " FROM persons ORDER BY fin LIMIT 200").fetchall()
    assert len(rows) == 200
    for name, surname, patronymic, birth_date, key in rows:
        assert key == names.name_key(name, surname, patronymic, birth_date)
        assert key.endswith(birth_date.isoformat())


def test_f2_the_lenient_key_postgresql_computes_is_the_names_modules(registry):
    """Issue 12: the index the loader builds holds names.lenient_key of every person."""
    load(registry, PEOPLE, seed=7, progress=False)
    with psycopg.connect(registry) as conn:
        rows = conn.execute(f"SELECT name, surname, patronymic, birth_date, {LENIENT_KEY}"
                            " FROM persons WHERE name_key LIKE '%ı%' LIMIT 200").fetchall()
    assert len(rows) > 100  # people whose names have a dotless ı
    for name, surname, patronymic, birth_date, lenient in rows:
        assert lenient == names.lenient_key(name, surname, patronymic, birth_date)
        assert "ı" not in lenient


def test_f1_f2_the_lookup_indexes_exist_after_the_load(registry):
    load(registry, PEOPLE, seed=7, progress=False)
    with psycopg.connect(registry) as conn:
        indexes = {row[0] for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('persons', 'id_documents')")}
    assert {"persons_name_key_idx", "persons_name_mrz_idx", "id_documents_fin_idx",
            "persons_pkey", "id_documents_pkey"} <= indexes


def test_a_second_load_is_refused_unless_replace(registry):
    load(registry, PEOPLE, seed=7, progress=False)
    with pytest.raises(RegistryNotEmpty):
        load(registry, 10, seed=8, progress=False)
    assert scalar(registry, "SELECT count(*) FROM persons") == PEOPLE

    load(registry, 10, seed=8, replace=True, progress=False)
    assert scalar(registry, "SELECT count(*) FROM persons") == 10
    assert scalar(registry, "SELECT count(DISTINCT fin) FROM id_documents") == 10


def test_the_command_line_refuses_with_exit_code_2(registry, capsys):
    assert loader.main(["--count", "50", "--database-url", registry, "--quiet"]) == 0
    assert loader.main(["--count", "50", "--database-url", registry]) == loader.EXIT_REFUSED
    assert "--replace" in capsys.readouterr().err


def test_progress_is_plain_lines_when_stdout_is_not_a_terminal(registry, capsys):
    load(registry, PEOPLE, seed=7, progress=True)
    out = capsys.readouterr().out
    assert "loaded 1,000 of 1,000 people (100%)" in out
    assert "\x1b[" not in out  # no terminal control codes


def test_on_loaded_runs_in_the_load_transaction(registry):
    seen = {}

    def on_loaded(conn, summary):  # where the lead records the import event
        seen["persons"] = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        seen["summary"] = dict(summary)
        raise RuntimeError("the import event could not be recorded")

    with pytest.raises(RuntimeError):
        load(registry, PEOPLE, seed=7, progress=False, on_loaded=on_loaded)
    assert seen["persons"] == PEOPLE and seen["summary"]["people"] == PEOPLE
    # it failed before commit: nothing of the load remains
    assert scalar(registry, "SELECT count(*) FROM persons") == 0
    assert scalar(registry, "SELECT count(*) FROM id_documents") == 0
