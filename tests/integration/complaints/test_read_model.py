"""D-1, issue 16: the ``complaints`` table is the fold of the complaint events. After a
day of every command — filed electronically and on paper, assigned, answered,
withdrawn, warned and overdue by the deadline job — the table rebuilt from the event
log by ``shared.ops.rebuild`` equals the live one; a row changed behind the events' back
is found, named by its key and status only (no personal data)."""
from datetime import datetime

import psycopg
import pytest
import requests

from shared.vocabulary.clock import BAKU
from shared.ops.rebuild import rebuild
from tests.markers import timer_runs, wait_until

from .test_complaints import FORM, STAFF, complaints, events  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_d1_the_complaints_table_rebuilt_from_the_events_is_the_live_one(complaints):
    start, database, clock = complaints
    url = start()
    filed = [requests.post(f"{url}/complaints", json=dict(FORM, text=f"Şikayət {n}.",
                                                          email=f"leyla{n}@example.az",
                                                          language=language), timeout=10)
             for n, language in enumerate(("az", "en", "az", "en"))]
    assert [answer.status_code for answer in filed] == [201] * 4
    ids = [answer.json()["complaint_id"] for answer in filed]
    paper = requests.post(f"{url}/staff/complaints", headers=STAFF, timeout=10, json=dict(
        FORM, email=None, postal_address="AZ1000, Bakı", received_on="2026-01-20",
        scan_reference="scan-1"))
    assert paper.status_code == 201, paper.text
    base = f"{url}/staff/complaints"
    assert requests.post(f"{base}/{ids[0]}/assign", json={"reviewer": "r.aliyev"},
                         headers=STAFF, timeout=10).status_code == 200
    assert requests.post(f"{base}/{ids[0]}/answer", headers=STAFF, timeout=10, json={
        "decision": "resolved", "answer": "Düzəldildi."}).status_code == 200
    assert requests.post(f"{base}/{ids[1]}/assign", json={"reviewer": "n.quliyeva"},
                         headers=STAFF, timeout=10).status_code == 200
    assert requests.post(f"{url}/complaints/withdraw", timeout=10, json={
        "reference": filed[2].json()["reference"].lower()}).json()["status"] == "withdrawn"
    clock.now = datetime(2026, 2, 25, 9, 0, tzinfo=BAKU)  # the 31 January ones: warned
    start(DEADLINE_CHECK_SECONDS=0.05)
    wait_until(lambda: "ComplaintOverdue" in events(database, paper.json()["complaint_id"]),
               "the paper complaint overdue")  # due 20 February
    timer_runs(start.containers[-1], "check_deadlines")  # what that check does is done
    assert "ComplaintDeadlineApproaching" in events(database, ids[3])
    assert rebuild("complaints", config={"DATABASE_URL": database}) == []

    with psycopg.connect(database) as conn:
        conn.execute("UPDATE complaints SET status = 'answered', overdue = true"
                     " WHERE complaint_id = %s", (ids[1],))
    [difference] = rebuild("complaints", config={"DATABASE_URL": database})
    assert (difference.table, difference.live_count, difference.rebuilt_count) == \
        ("complaints", 1, 1)
    assert difference.columns == ["complaint_id", "status", "version"]
    assert [row[1] for row in difference.live] == ["answered"]
    assert [row[1] for row in difference.rebuilt] == ["assigned"]
    assert "Leyla" not in repr(difference)
