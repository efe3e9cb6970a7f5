"""Complaints on the real database and broker, with a clock the test sets (C-1 … C-4)."""
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.complaints.service import ComplaintsService
from shared.runtime.config import service_config
from shared.vocabulary.clock import BAKU
from tests.conftest import unused_port
from tests.markers import timer_runs, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
STAFF = {"Authorization": "Bearer complaints-dev-token"}
FORM = {"service": "queue_booking", "text": "Kiosk bileti çap etmədi.", "name": "Leyla",
        "patronymic": "Əli qızı", "surname": "Məmmədova", "address": "Bakı, Nizami küç. 1",
        "email": "leyla@example.az"}


class Clock:
    now = datetime(2026, 1, 31, 12, 0, tzinfo=BAKU)

    def __call__(self):
        return self.now


@pytest.fixture
def complaints(container_factory, rabbit_config, make_database):
    database = make_database(ROOT / "services" / "complaints" / "migrations")
    clock = Clock()

    def start(**config):
        """Another instance on the database (its container in ``start.containers``);
        its URL."""
        port = unused_port()
        shipped = service_config("complaints")
        # A test's limits replace the shipped ones of those names only.
        config["RATE_LIMITS"] = shipped["RATE_LIMITS"] | config.get("RATE_LIMITS", {})
        container = container_factory(ComplaintsService, dict(
            shipped, **rabbit_config, DATABASE_URL=database,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            STAFF_TOKEN_SHA256=[hashlib.sha256(b"complaints-dev-token").hexdigest()],
            DEADLINE_CHECK_SECONDS=config.pop("DEADLINE_CHECK_SECONDS", 3600), **config))
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        start.containers.append(container)
        return f"http://127.0.0.1:{port}"
    start.containers = []
    return start, database, clock


def events(database, complaint_id):
    with psycopg.connect(database) as conn:
        return [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            (f"complaint-{complaint_id}",))]


def test_c1_c3_filed_on_31_january_is_due_at_the_end_of_february(complaints):
    start, database, _ = complaints
    url = start()
    filed = requests.post(f"{url}/complaints", json=FORM, timeout=10)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["due_on"] == "2026-02-28" and body["reference"].startswith("SK-20260131-")
    assert events(database, body["complaint_id"]) == ["ComplaintFiled", "ComplaintAcknowledged"]
    with psycopg.connect(database) as conn:  # the acknowledgement email waits for the relay
        (outbox,) = conn.execute("SELECT convert_from(body, 'UTF8') FROM outbox WHERE"
                                 " exchange = 'complaints.private'").fetchone()
        public = [row[0] for row in conn.execute("SELECT convert_from(body, 'UTF8') FROM outbox"
                                                 " WHERE exchange = 'complaints.events'")]
    assert body["reference"] in outbox
    # A receipt: tried for 72 hours after a temporary failure, as GOV.UK Notify does.
    deliver_by = datetime.fromisoformat(json.loads(outbox)["data"]["deliver_by"])
    assert deliver_by == Clock.now + timedelta(hours=72)
    assert all("Leyla" not in p and "Kiosk" not in p and "example.az" not in p for p in public)


def test_c2_every_missing_identity_field_is_refused_with_its_reason(complaints):
    start, database, _ = complaints
    url = start()
    answer = requests.post(f"{url}/complaints", json={"service": "fin_lookup", "text": "x"},
                           timeout=10)
    assert answer.status_code == 400
    assert {r["field"] for r in answer.json()["reasons"]} == \
        {"name", "patronymic", "surname", "address", "contact"}
    bad = requests.post(f"{url}/complaints", json=dict(FORM, service="tax", email="no"),
                        timeout=10)
    assert {r["field"] for r in bad.json()["reasons"]} == {"service", "email"}
    unicode_local_part = requests.post(f"{url}/complaints", timeout=10,
                                       json=dict(FORM, email="ləylə@bakı.az"))
    assert [(r["field"], r["code"]) for r in unicode_local_part.json()["reasons"]] == [
        ("email", "email_local_part")]  # the booking form's field and reason (C-2)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM complaints").fetchone()[0] == 0


def test_c4_paper_complaints_are_registered_by_staff_only(complaints):
    start, _, _ = complaints
    url = start()
    paper = dict(FORM, email=None, postal_address="AZ1000, Bakı", received_on="2026-01-20",
                 scan_reference="scan/2026/01/0042.pdf")
    assert requests.post(f"{url}/staff/complaints", json=paper, timeout=10).status_code == 401
    filed = requests.post(f"{url}/staff/complaints", json=paper, headers=STAFF, timeout=10)
    assert filed.status_code == 201 and filed.json()["due_on"] == "2026-02-20"
    listed = requests.get(f"{url}/staff/complaints", headers=STAFF, timeout=10).json()
    assert [c["channel"] for c in listed] == ["paper"]


def test_c4_issue12_received_on_as_written_in_azerbaijan_and_never_out_of_range(complaints):
    """A letter received on 20.01.2026 is due on 20.02.2026 (C-3); a received_on of
    9999-12-31 made the one-month deadline overflow into a 500: now it is a 400."""
    start, database, _ = complaints
    url = start()
    paper = dict(FORM, received_on=" 20.01.2026 ", scan_reference="scan/2026/01/0043.pdf")
    filed = requests.post(f"{url}/staff/complaints", json=paper, headers=STAFF, timeout=10)
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_on"] == "2026-01-20" and filed.json()["due_on"] == "2026-02-20"
    for day in ("9999-12-31", "0001-01-01", "31.02.2026"):
        refused = requests.post(f"{url}/staff/complaints", json=dict(paper, received_on=day),
                                headers=STAFF, timeout=10)
        assert refused.status_code == 400, refused.text
        [reason] = [r for r in refused.json()["reasons"] if r["field"] == "received_on"]
        assert reason["code"] in ("out_of_range", "invalid_date") and reason["az"]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM complaints").fetchone()[0] == 1


def test_lifecycle_assign_answer_and_withdraw(complaints):
    start, database, clock = complaints
    url = start()
    first = requests.post(f"{url}/complaints", json=FORM, timeout=10).json()
    second = requests.post(f"{url}/complaints", json=dict(FORM, text="Başqa şikayət."),
                           timeout=10).json()
    base = f"{url}/staff/complaints/{first['complaint_id']}"
    assert requests.post(f"{base}/assign", json={"reviewer": "r.aliyev"}, headers=STAFF,
                         timeout=10).status_code == 200
    answered = requests.post(f"{base}/answer",
                             json={"decision": "resolved", "answer": "Düzəldildi."},
                             headers=STAFF, timeout=10)
    assert answered.json()["delivery"] == "email"
    assert requests.post(f"{base}/answer", json={"decision": "rejected", "answer": "x"},
                         headers=STAFF, timeout=10).status_code == 409
    assert requests.post(f"{url}/complaints/withdraw", json={"reference": second["reference"]},
                         timeout=10).json()["status"] == "withdrawn"
    assert events(database, first["complaint_id"])[2:] == ["ComplaintAssigned",
                                                           "ComplaintAnswered"]
    history = requests.get(base, headers=STAFF, timeout=10).json()["history"]
    assert [h["type"] for h in history][-1] == "ComplaintAnswered"
    assigned = requests.get(f"{url}/staff/complaints", params={"reviewer": "r.aliyev"},
                            headers=STAFF, timeout=10).json()
    assert [c["status"] for c in assigned] == ["answered"]


def test_c3_two_instances_of_the_overdue_job_give_one_breach_per_complaint(complaints):
    start, database, clock = complaints
    url = start()
    ids = [requests.post(f"{url}/complaints", json=dict(FORM, text=f"Şikayət {n}."),
                         timeout=10).json()["complaint_id"] for n in range(3)]
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=BAKU)  # due 28 February: overdue
    for _ in range(2):
        start(DEADLINE_CHECK_SECONDS=0.05)
    wait_until(lambda: all("ComplaintOverdue" in events(database, i) for i in ids),
               "every complaint overdue")
    for checker in start.containers[-2:]:  # each has checked again: nothing more may come
        timer_runs(checker, "check_deadlines")
    for complaint_id in ids:
        kinds = events(database, complaint_id)
        assert kinds.count("ComplaintOverdue") == 1
        assert kinds.count("ComplaintDeadlineApproaching") == 1
    overdue = requests.get(f"{url}/staff/complaints", params={"overdue": "true"},
                           headers=STAFF, timeout=10).json()
    assert sorted(c["complaint_id"] for c in overdue) == sorted(ids)
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("asan_complaints_overdue") == 3
