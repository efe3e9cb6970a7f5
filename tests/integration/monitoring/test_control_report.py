"""M-1 … M-4: the control report after a scripted day on the whole platform, its
rebuild from the event logs, a stuck process in the failure report, and the report
generated daily and on demand with its ControlReportGenerated event."""
import csv
import io
import time
from collections import Counter
from datetime import datetime, timedelta

import eventlet
import psycopg
import pytest
import requests

from shared.vocabulary.clock import BAKU
from tests import days
from tests.integration.registry.test_lookup import PEOPLE, populate
from tests.markers import timer_runs, wait_until

pytestmark = pytest.mark.integration

DAY1, DAY2 = "2026-11-23", "2026-11-24"  # a Monday and a Tuesday
AS_OF = "2026-11-24T20:00:00+04:00"


def scripted_day(platform):
    """Drives the services through their APIs; returns what it did, counted by hand."""
    clock = platform.clock
    # Day 1: five visits booked for day 2, three at 10:00 and two at 14:00.
    clock.set(DAY1, "10:00")
    visits = [dict(at="10:15"), dict(at="10:30"), dict(at="11:00", service="id_card")]
    booked = [platform.request_booking(**visit) for visit in visits]
    codes = [platform.confirm(*booking) for booking in booked]  # within the 15-minute hold
    clock.set(DAY1, "14:00")
    booked += [platform.request_booking(centre="baku-2", at="12:00", channel="web"),
               platform.request_booking(centre="baku-2", at="12:15", channel="web")]
    codes.append(platform.confirm(*booked[3]))  # the fifth code is never typed
    # Two forms refused, with every reason listed.
    refused_reasons = Counter(platform.refused_form(name="", email="not-an-email"))
    refused_reasons.update(platform.refused_form(phone="12"))
    # One cancelled with its order code.
    cancelled = requests.post(platform.url("booking", "/bookings/cancel"),
                              json={"order_code": codes[3]}, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    # Day 2: two visits activated at the kiosk, one comes too late and has lapsed.
    kiosk = platform.kiosk("baku-1")
    clock.set(DAY2, "10:10")
    assert platform.activate(kiosk, codes[0]).status_code == 200
    clock.set(DAY2, "10:25")
    assert platform.activate(kiosk, codes[1]).status_code == 200
    clock.set(DAY2, "11:20")
    assert platform.activate(kiosk, codes[2]).status_code == 410
    # FIN lookups (F-1, F-2): found twice by card, once by name, one unknown card.
    clock.set(DAY2, "12:00")
    populate(platform.urls["registry"])
    fin = platform.url("registry", "/fin/by-id-card")
    outcomes = Counter()
    for card, channel in ((PEOPLE[0][6], "web"), (PEOPLE[1][6], "api"), ("AZE19999999", "web")):
        response = requests.post(fin, json={"id_card": card, "channel": channel}, timeout=10)
        outcomes["found" if response.status_code == 200 else "not_found"] += 1
    _, name, surname, patronymic, _, born, _ = PEOPLE[2]
    response = requests.post(platform.url("registry", "/fin/by-name"), timeout=10, json={
        "name": name, "surname": surname, "patronymic": patronymic, "birth_date": born})
    assert response.status_code == 200, response.text
    outcomes["found"] += 1
    # Two complaints filed (C-1), one of them answered.
    clock.set(DAY2, "13:00")
    complaint = {"service": "queue_booking", "text": "Kiosk bileti çap etmədi.",
                 "name": "Leyla", "patronymic": "Əli qızı", "surname": "Məmmədova",
                 "address": "Bakı, Nizami küç. 1", "email": "complainant@example.az"}
    filed = [requests.post(platform.url("complaints", "/complaints"), timeout=10,
                           json=dict(complaint, text=f"{complaint['text']} ({n})"))
             for n in range(2)]  # two complaints (the same one resent would be one)
    assert [response.status_code for response in filed] == [201, 201]
    first = filed[0].json()["complaint_id"]
    staff = platform.auth("complaints")
    assert requests.post(platform.url("complaints", f"/staff/complaints/{first}/assign"),
                         json={"reviewer": "R. Əliyev"}, headers=staff, timeout=10).ok
    assert requests.post(platform.url("complaints", f"/staff/complaints/{first}/answer"),
                         json={"decision": "resolved", "answer": "Düzəldildi."},
                         headers=staff, timeout=10).ok
    return {"refused_reasons": refused_reasons, "fin_outcomes": outcomes, "booked": booked}


def test_m1_m3_the_report_of_a_scripted_day_counts_what_happened(start_platform):
    platform = start_platform()
    did = scripted_day(platform)
    platform.wait_caught_up()

    day1 = platform.report(DAY1, as_of=AS_OF).json()
    requests_in = day1["receipt"]["booking_requests"]
    assert requests_in["total"] == 5
    assert requests_in["by_channel"] == {"api": 3, "web": 2}  # the citizen pages send "web"
    assert requests_in["by_hour"] == {"10": {"api": 3}, "14": {"web": 2}}
    assert day1["receipt"]["booking_forms_refused"]["total"] == 2
    assert day1["funnel"]["refused"] == {"total": 2,
                                         "by_reason": dict(sorted(did["refused_reasons"].items()))}
    times = day1["response_times"]
    assert times["request_to_code_email_delivered"]["count"] == 5  # M-2
    assert times["confirmation_to_order_code_email_delivered"]["count"] == 4  # confirmed
    for measure in ("request_to_code_email_delivered",
                    "confirmation_to_order_code_email_delivered"):
        t = times[measure]
        assert 0 <= t["p50"] <= t["p95"] <= t["p99"] <= t["max"] < 60
    assert day1["funnel"]["visits"]["requested"] == 0  # the visits are on day 2
    assert day1["failures"]["summary"] == {
        "code_email_not_delivered": 0, "order_code_email_not_delivered": 0,
        "emails_failed": 0, "complaints_overdue": 0, "dead_letters": 0}

    day2 = platform.report(DAY2, as_of=AS_OF).json()
    assert day2["funnel"]["visits"] == {
        "requested": 5, "confirmed": 4, "activated": 2, "lapsed": 1, "cancelled": 1,
        "voided": 0, "hold_expired": 0, "awaiting_visit": 0, "cancelled_by": {"citizen": 1}}
    rows = {(row["centre"], row["service"]): row for row in day2["by_centre_service"]}
    assert set(rows) == {("baku-1", "passport"), ("baku-1", "id_card"), ("baku-2", "passport")}
    assert (rows["baku-1", "passport"]["activated"], rows["baku-1", "id_card"]["lapsed"],
            rows["baku-2", "passport"]["cancelled"]) == (2, 1, 1)
    assert day2["kiosks"] == {"tickets_issued": 2, "tickets_by_series": {"booked": 2},
                              "activations_refused": 1,
                              "activations_refused_by_reason": {"lapsed": 1}}
    assert day2["fin_queries"]["total"] == 4
    assert day2["fin_queries"]["by_outcome"] == dict(sorted(did["fin_outcomes"].items()))
    assert day2["fin_queries"]["by_method"] == {"id_card": 3, "name": 1}
    assert day2["receipt"]["fin_queries"]["by_channel"] == {"api": 2, "web": 2}
    assert day2["receipt"]["fin_queries"]["by_hour"] == {"12": {"api": 2, "web": 2}}
    assert day2["response_times"]["fin_lookup"]["count"] == 4
    assert day2["complaints"] | {"received_by_channel": None} == {
        "received": 2, "received_by_channel": None, "answered": 1,
        "answered_by_decision": {"resolved": 1}, "answered_late": 0, "withdrawn": 0,
        "became_overdue": 0}
    assert day2["receipt"]["booking_requests"]["total"] == 0

    # One centre only: the funnel is cut, the registry's figures are not.
    baku2 = platform.report(DAY2, as_of=AS_OF, centre="baku-2").json()
    assert (baku2["funnel"]["visits"]["requested"], baku2["funnel"]["visits"]["cancelled"],
            baku2["kiosks"]["tickets_issued"]) == (2, 1, 0)

    # M-4: the same figures as CSV and as a page with charts.
    rows = dict(csv.reader(io.StringIO(platform.report(DAY2, as_of=AS_OF,
                                                       format="csv").text)))
    assert rows["funnel.visits.activated"] == "2" and rows["fin_queries.total"] == "4"
    page = platform.report(DAY2, as_of=AS_OF, format="html")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<svg" in page.text and "activated: 2" in page.text

    # Wipe the monitoring database and rebuild it from the services' event logs.
    before = {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2)}
    assert platform.rebuild_monitoring_from_scratch() == platform.public_events()
    after = {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2)}
    assert after == before


def _wait(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "notification never got there"
        eventlet.sleep(0.1)


def _tries(database, reference):
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE data ->> 'reference' = %s"
                            " AND event_type = 'EmailTemporaryFailure'",
                            (reference,)).fetchone()[0]


def _given_up(database, reference):
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE data ->> 'reference' = %s"
                            " AND (data ->> 'will_retry')::boolean IS false",
                            (reference,)).fetchone()[0] > 0


def test_m3_an_email_that_never_goes_out_is_in_the_failure_report(start_platform):
    platform = start_platform(notification_config={  # retries in tenths of a second
        "EMAIL_RETRY_SCHEDULE_SECONDS": [0.1], "EVENT_REDELIVERY_DELAYS_MS": [100, 200]})
    platform.clock.now = now = datetime.now(BAKU)  # the services' clock and the log's agree
    today = days.today(now).isoformat()
    visit = days.bookable_day(now, "baku-1", "passport", ahead=1).isoformat()
    stuck, _ = platform.request_booking(day=visit, email="refuse-temp-stuck@example.az")  # 451
    fine, fine_email = platform.request_booking(day=visit, at="10:30")
    platform.confirm(fine, fine_email)
    # The code email is tried while the code is valid (15 min); past that, given up.
    _wait(lambda: _tries(platform.databases["notification"], f"booking-{stuck}") >= 3)
    platform.clock.now = now + timedelta(minutes=16)
    _wait(lambda: _given_up(platform.databases["notification"], f"booking-{stuck}"))
    platform.clock.now = now
    platform.wait_caught_up()

    # Before the threshold has passed, nothing is overdue yet.
    early = platform.report(today, as_of=now.isoformat(), stuck_after_minutes=10).json()
    assert early["failures"]["code_email_not_delivered"] == []
    later = (now + timedelta(minutes=11)).isoformat()
    report = platform.report(today, as_of=later, stuck_after_minutes=10).json()
    failures = report["failures"]
    assert [(item["booking_id"], item["state"]) for item in
            failures["code_email_not_delivered"]] == [(stuck, "failed")]
    assert [(item["reference"], item["template"], item["failure"], item["smtp_code"])
            for item in failures["emails_failed"]] == [
        (f"booking-{stuck}", "booking_confirmation_code", "temporary", 451)]
    assert failures["order_code_email_not_delivered"] == []
    assert failures["summary"]["code_email_not_delivered"] == 1
    assert report["response_times"]["request_to_code_email_delivered"]["count"] == 1
    page = platform.report(today, as_of=later, format="html").text
    assert stuck in page


def _superseded(database, reference):
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE data ->> 'reference' = %s"
                            " AND event_type = 'EmailSuperseded'", (reference,)).fetchone()[0] > 0


def test_m3_a_code_email_superseded_is_not_in_the_failure_report_one_not_delivered_is(
        start_platform):
    """Q-2, M-3: a code email that became untrue before the relay took it (its hold
    voided by wrong codes) was rightly never sent: it is not "code email not
    delivered", while one that never went out and is still true is."""
    platform = start_platform(notification_config={  # retries in tenths of a second
        "EMAIL_RETRY_SCHEDULE_SECONDS": [0.1], "EVENT_REDELIVERY_DELAYS_MS": [100, 200]})
    platform.clock.now = now = datetime.now(BAKU)  # the services' clock and the log's agree
    today = days.today(now).isoformat()
    visit = days.bookable_day(now, "baku-1", "passport", ahead=1).isoformat()
    voided, _ = platform.request_booking(day=visit, email="refuse-temp-voided@example.az")
    stuck, _ = platform.request_booking(day=visit, at="10:30",
                                        email="refuse-temp-stuck@example.az")  # 451
    notification = platform.databases["notification"]
    _wait(lambda: _tries(notification, f"booking-{voided}") >= 1)
    for _ in range(10):  # wrong codes until the hold is void (MAX_WRONG_CODES)
        refused = requests.post(platform.url("booking", f"/bookings/{voided}/confirm"),
                                json={"code": "000000"}, timeout=10)
        assert refused.status_code != 200, refused.text
        if "too_many_wrong_codes" in refused.text:
            break
    else:
        raise AssertionError("the hold was never voided")
    # Its code email is superseded at its next try; the other one is tried until the
    # code expires, then given up.
    _wait(lambda: _superseded(notification, f"booking-{voided}"))
    platform.clock.now = now + timedelta(minutes=16)
    _wait(lambda: _given_up(notification, f"booking-{stuck}"))
    platform.clock.now = now
    platform.wait_caught_up()

    later = (now + timedelta(minutes=11)).isoformat()
    failures = platform.report(today, as_of=later, stuck_after_minutes=10).json()["failures"]
    assert [(item["booking_id"], item["state"]) for item in
            failures["code_email_not_delivered"]] == [(stuck, "failed")]
    assert failures["summary"]["code_email_not_delivered"] == 1


def test_m4_reports_daily_and_on_demand_are_kept_and_announced(start_platform):
    platform = start_platform(monitoring_config={"DAILY_REPORT_CHECK_SECONDS": 0.2})
    platform.clock.set(DAY1, "10:00")
    booking, email = platform.request_booking()
    platform.wait_caught_up()
    staff = platform.auth("monitoring")

    created = requests.post(platform.url("monitoring", "/reports/control"), headers=staff,
                            json={"day": DAY1, "centre": "baku-1"}, timeout=30)
    assert created.status_code == 201, created.text
    report_id = created.json()["report_id"]
    kept = requests.get(platform.url("monitoring", f"/reports/{report_id}"), headers=staff,
                        timeout=10).json()
    assert kept["receipt"]["booking_requests"]["total"] == 1
    assert kept["filters"] == {"centre": "baku-1", "service": None}

    platform.clock.set(DAY2, "00:45")  # 30 minutes after midnight have passed: yesterday's report
    def dailies():
        return requests.get(platform.url("monitoring", "/reports"), headers=staff,
                            params={"trigger": "daily"}, timeout=10).json()

    wait_until(dailies, "a daily report")
    timer_runs(platform.containers["monitoring"], "daily_report")  # checked again since
    daily = dailies()
    # One daily report per day: the day before DAY1 was made when the clock stood on DAY1.
    assert [(item["day"], item["trigger"]) for item in daily] == [(DAY1, "daily"),
                                                                  ("2026-11-22", "daily")]

    with psycopg.connect(platform.databases["monitoring"]) as conn:
        announced = conn.execute(
            "SELECT data FROM events WHERE event_type = 'ControlReportGenerated'"
            " ORDER BY global_position").fetchall()
    assert sorted((data["day"], data["trigger"]) for (data,) in announced) == [
        ("2026-11-22", "daily"), (DAY1, "daily"), (DAY1, "on_demand")]
    assert report_id in [data["report_id"] for (data,) in announced]
    assert booking not in str(announced) and email not in str(announced)

    # Refusals are clear and bilingual (Q-5 style), never a 500.
    bad = requests.get(platform.url("monitoring", "/reports/control"), headers=staff,
                       params={"day": "yesterday", "centre": "atlantis"}, timeout=10)
    assert bad.status_code == 400
    assert {reason["field"] for reason in bad.json()["reasons"]} == {"day", "centre"}
    assert requests.get(platform.url("monitoring", "/reports/control"), params={"day": DAY1},
                        timeout=10).status_code == 401
    basic = requests.get(platform.url("monitoring", "/reports/control"),
                         params={"day": DAY1, "format": "html"},
                         auth=("staff", "monitoring-dev-token"), timeout=10)
    assert basic.status_code == 200 and "<svg" in basic.text
