"""M-1 … M-4 on the running platform: the deployed monitoring consumer receives the
other services' events through the broker topology `make run` declared."""
import time
from datetime import datetime

import pytest
import requests

from shared.clock import BAKU
from shared.config import service_config
from tests.e2e.booking.conftest import form, post
from tests.mailbox import wait_for_mail

pytestmark = pytest.mark.e2e
MONITORING = "http://" + service_config("monitoring")["WEB_SERVER_ADDRESS"]
STAFF = {"Authorization": "Bearer monitoring-dev-token"}


def report(**query):
    response = requests.get(f"{MONITORING}/reports/control", headers=STAFF, timeout=30,
                            params={"day": datetime.now(BAKU).date().isoformat(), **query})
    assert response.status_code == 200, response.text
    return response.json()


def test_m1_a_booking_request_and_its_email_reach_the_report():
    before = report()
    data = form()
    response = post("/bookings", data)
    assert response.status_code == 202, response.text
    wait_for_mail(data["email"], "booking_confirmation_code")
    deadline = time.monotonic() + 30
    while True:
        now = report()
        received = now["receipt"]["booking_requests"]["total"]
        delivered = now["response_times"]["request_to_code_email_delivered"]["count"]
        before_delivered = before["response_times"]["request_to_code_email_delivered"]["count"]
        if received > before["receipt"]["booking_requests"]["total"] and \
                delivered > before_delivered:
            break
        assert time.monotonic() < deadline, "the booking did not reach the monitoring report"
        time.sleep(0.3)


def test_m4_reports_need_the_staff_token_and_explain_bad_queries():
    assert requests.get(f"{MONITORING}/reports/control", params={"day": "2026-11-23"},
                        timeout=10).status_code == 401
    bad = requests.get(f"{MONITORING}/reports/control", params={"day": "2026-02-30"},
                       headers=STAFF, timeout=10)
    assert bad.status_code == 400
    reason = bad.json()["reasons"][0]
    assert reason["field"] == "day" and reason["az"] and reason["en"]
