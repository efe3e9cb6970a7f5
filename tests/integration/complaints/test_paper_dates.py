"""C-4: a paper complaint is registered with the day its letter arrived — a day that
has come, in Baku: a letter "received" in the future would never become overdue
(C-3). Judged on both sides of Baku midnight."""
from datetime import datetime, timezone

import pytest
import requests

from .test_complaints import FORM, STAFF, complaints  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("now", [datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc),
                                 datetime(2026, 12, 7, 20, 30, tzinfo=timezone.utc)],
                         ids=["03:30Baku", "00:30Baku"])
def test_c4_a_letter_is_received_today_at_the_latest_in_baku(complaints, now):
    start, _, clock = complaints
    clock.now = now  # the 8th in Baku at both instants, the 7th in UTC
    url = start()

    def paper(received_on):
        return requests.post(f"{url}/staff/complaints", headers=STAFF, timeout=10, json=dict(
            FORM, received_on=received_on, scan_reference="scan-7"))

    assert paper("08.12.2026").status_code == 201
    tomorrow = paper("2026-12-09")
    assert tomorrow.status_code == 400
    assert ("received_on", "in_the_future") in {(r["field"], r["code"])
                                                for r in tomorrow.json()["reasons"]}
    assert paper("31.12.2100").status_code == 400
