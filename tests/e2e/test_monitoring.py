"""M-1 … M-4 on the running platform: the deployed monitoring consumer receives the
other services' events through the broker topology `make run` declared."""
import time

import pytest
import requests

from shared.runtime.config import service_config
from tests import days
from tests.e2e.booking.conftest import form, post
from tests.mailbox import wait_for_mail

pytestmark = pytest.mark.e2e
MONITORING = "http://" + service_config("monitoring")["WEB_SERVER_ADDRESS"]
STAFF = {"Authorization": "Bearer monitoring-dev-token"}


def report(day, **query):
    response = requests.get(f"{MONITORING}/reports/control", headers=STAFF, timeout=30,
                            params={"day": day.isoformat(), **query})
    assert response.status_code == 200, response.text
    return response.json()


def counts(day):
    """(booking requests received, code emails delivered) in the report of ``day``."""
    figures = report(day)
    return (figures["receipt"]["booking_requests"]["total"],
            figures["response_times"]["request_to_code_email_delivered"]["count"])


def test_m1_a_booking_request_and_its_email_reach_the_report():
    # A request counts on the Baku day it came: if a midnight passes around it, the
    # next day's report, which had nothing of it before.
    before = {days.today(): counts(days.today())}
    data = form()
    response = post("/bookings", data)
    assert response.status_code == 202, response.text
    came_on = set(before) | {days.today()}
    wait_for_mail(data["email"], "booking_confirmation_code")
    deadline = time.monotonic() + 30
    while True:
        grown = [day for day in came_on if all(
            now > then for now, then in zip(counts(day), before.get(day, (0, 0))))]
        if grown:
            break
        assert time.monotonic() < deadline, "the booking did not reach the monitoring report"
        time.sleep(0.3)


def test_m4_reports_need_the_staff_token_and_explain_bad_queries():
    assert requests.get(f"{MONITORING}/reports/control",
                        params={"day": days.today().isoformat()}, timeout=10).status_code == 401
    bad = requests.get(f"{MONITORING}/reports/control", params={"day": "2026-02-30"},
                       headers=STAFF, timeout=10)
    assert bad.status_code == 400
    reason = bad.json()["reasons"][0]
    assert reason["field"] == "day" and reason["az"] and reason["en"]
