"""Issue 16 (D-1): the registry's tables are the fold of its event log — a bulk import
(one PopulationImported, regenerated from its seed), staff registrations and
invalidations, refused commands and audited queries — checked by shared.ops.rebuild."""
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import requests

from services.registry import loader
from services.registry.events import CATALOG
from shared.runtime.eventstore import NO_STREAM, EventStore
from shared.ops.rebuild import rebuild
from tests import days

from . import test_lookup
from .test_lookup import STAFF, by_card, by_name, populate

registry = test_lookup.registry  # the fixture: a RegistryService on a database of its own

pytestmark = pytest.mark.integration


def scripted_day(url, database):
    """An import, then a day of the registry's staff and citizens, refusals included."""
    populate(url)
    assert requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF, timeout=10,
                         json={"series_number": "AZE10000002", "status": "lost"}).ok
    with psycopg.connect(database) as conn:  # a card of the bulk import: no event of its own
        imported = conn.execute("SELECT series_number FROM id_documents WHERE status = 'valid'"
                                " AND fin NOT IN ('5AB2C7D', '6HJ3K8L', '7MN4P9Q', '8RS5T1U',"
                                " '9VW6X2Y', '2ZA7B3C') LIMIT 1").fetchone()[0]
    assert requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF, timeout=10,
                         json={"series_number": imported, "status": "replaced"}).ok
    assert requests.post(f"{url}/admin/id-cards/invalidate", headers=STAFF, timeout=10,
                         json={"series_number": imported, "status": "lost"}).status_code == 404
    refused = requests.post(f"{url}/admin/persons", headers=STAFF, timeout=10, json={
        "fin": "3DE4F5G", "name": "Leyla", "surname": "Əliyeva", "patronymic": "Rauf qızı",
        "sex": "F", "birth_date": "1990-05-05", "card": {
            "series_number": "AZE10000001", **days.card_dates()}})
    assert refused.status_code == 409 and refused.json()["error"] == "card_taken"
    assert by_card(url, "AZE10000001").status_code == 200
    assert by_card(url, "AZE10000002").status_code == 404
    assert by_name(url, "Elçin", "Quliyev", "Kamal oğlu", "1990-01-01").status_code == 409
    assert by_name(url, "L3yla", "X", "Y", "1990-01-01", channel="web").status_code == 400


def test_the_registry_tables_are_the_fold_of_its_log(registry):
    url, database = registry()
    loader.import_population(database, 200, seed=7, progress=False)
    scripted_day(url, database)
    assert rebuild("registry", config={"DATABASE_URL": database}) == []
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM fin_queries").fetchone()[0] == 4
        assert conn.execute("SELECT count(*) FROM fin_queries WHERE asked = '{}'::jsonb"
                            " OR client = 'unknown'").fetchone()[0] == 0


def test_a_difference_is_found_without_personal_data_and_apply_corrects_it(registry):
    url, database = registry()
    loader.import_population(database, 50, seed=7, progress=False)
    populate(url)
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE id_documents SET status = 'lost' WHERE series_number = 'AZE10000001'")
        conn.execute("DELETE FROM persons WHERE fin = (SELECT min(fin) FROM persons)")
    differences = {d.table: d for d in rebuild("registry", config={"DATABASE_URL": database})}
    assert set(differences) == {"persons", "id_documents"}
    assert differences["persons"].rebuilt_count == 1 and differences["persons"].live_count == 0
    assert differences["id_documents"].columns == ["status", "issued_on", "expires_on"]
    shown = repr([d.live + d.rebuilt for d in differences.values()])
    assert "AZE10000001" not in shown and "5AB2C7D" not in shown
    rebuild("registry", apply=True, config={"DATABASE_URL": database})
    assert rebuild("registry", config={"DATABASE_URL": database}) == []
    assert by_card(url, "AZE10000001").json()["fin"] == "5AB2C7D"


def test_an_import_that_replaces_the_registry_erases_what_came_before(registry):
    url, database = registry()
    populate(url)
    loader.import_population(database, 30, seed=11, replace=True, progress=False)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 30
    assert rebuild("registry", config={"DATABASE_URL": database}) == []


def test_f6_audit_rows_older_than_their_full_event_are_kept(registry):
    """A FinQueried written before the event carried what was asked: its row is kept
    as the live table has it (an --apply must not lose the audit)."""
    url, database = registry()
    query_id = str(uuid.uuid4())
    at = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    with psycopg.connect(database) as conn:
        EventStore(CATALOG).append(conn, f"finquery-{query_id}", NO_STREAM, [CATALOG.new(
            "FinQueried", f"finquery-{query_id}", {
                "query_id": query_id, "method": "id_card", "outcome": "found",
                "latency_ms": 3.5, "channel": "api", "asked_at": at.isoformat()},
            str(uuid.uuid4()))])
        conn.execute("INSERT INTO fin_queries VALUES (%s, %s, 'id_card',"
                     " '{\"id_card\": \"AZE10000001\"}', '127.0.0.1', 'api', 'found', '5AB2C7D',"
                     " 3.5)", (query_id, at))
    assert rebuild("registry", config={"DATABASE_URL": database}) == []
    rebuild("registry", apply=True, config={"DATABASE_URL": database})
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT client, answered_fin FROM fin_queries").fetchall() == \
            [("127.0.0.1", "5AB2C7D")]
