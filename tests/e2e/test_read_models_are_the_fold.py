"""D-1, issue 16: each service's tables are the fold of its event log.

The running platform is first taken through a day that this module makes itself, so
that it checks the same whether it runs alone or after every other test: bookings
held, refused a wrong code, confirmed, cancelled, moved, given a new order code, a
form refused; kiosks registered, rotated and revoked, an activation refused, a
walk-in while the centre is open, a counter registered, signed in and out and
revoked; a person registered, FINs looked up both ways, a card invalidated;
complaints filed, assigned, answered and withdrawn; the emails of all that
delivered; a control report generated, and every public event of the day applied by
monitoring. The day must be in each service's event log (the check is never made on
an empty platform); then each service's read models, rebuilt from its event log into
a scratch schema by ``shared.ops.rebuild``, must equal its live tables row for row, while
the platform keeps running. Then the same check as the command line an operator
runs, which sees a tampered row."""
import random
import string
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from services.monitoring.read_model import CATALOGS, consumer_of
from shared.vocabulary.clock import baku_today
from shared.runtime.config import REPO_ROOT, service_config
from shared.ops.rebuild import read_model_of, rebuild
from tests.e2e.booking.conftest import BOOKING, form, post
from tests.e2e.test_kiosk_gateway import walk_in_with_its_expected_answer
from tests.e2e.test_registry import registered
from tests.mailbox import confirmation_code, order_code, wait_for_mail
from tests.markers import processed, wait_until

pytestmark = pytest.mark.e2e

SERVICES = sorted(p.parent.name for p in Path(REPO_ROOT, "services").glob("*/read_model.py"))
URL = {service: "http://" + service_config(service)["WEB_SERVER_ADDRESS"]
       for service in SERVICES}
TOKEN = {"kiosk_gateway": "admin-dev-token", "registry": "registry-dev-token",
         "complaints": "complaints-dev-token", "monitoring": "monitoring-dev-token"}
# What the day below records in each service's log, whatever the hour it runs at.
DAY = {
    "booking": {"BookingRequested", "CodeRejected", "CodeConfirmed", "BookingCancelled",
                "BookingRescheduled", "OrderCodeReissued", "BookingRefused"},
    "kiosk_gateway": {"KioskRegistered", "KioskCredentialRotated", "ActivationRefused",
                      "KioskRevoked", "CounterRegistered", "CounterSignedIn",
                      "CounterSignedOut", "CounterRevoked"},
    "registry": {"PersonRegistered", "IdCardInvalidated", "FinQueried"},
    "complaints": {"ComplaintFiled", "ComplaintAcknowledged", "ComplaintAssigned",
                   "ComplaintAnswered", "ComplaintWithdrawn"},
    "notification": {"EmailCreated", "EmailDelivered"},
    "monitoring": {"ControlReportGenerated"},
}
assert set(DAY) == set(SERVICES), "a new read model: make its day here"


def staff(service):
    """The staff's token, and a request of its own: an answer of the minute before to
    the same body (this module run twice, shared.edge.idempotency) is not what is asked."""
    return {"Authorization": f"Bearer {TOKEN[service]}", "Idempotency-Key": str(uuid.uuid4())}


def last_position(service):
    with psycopg.connect(service_config(service)["DATABASE_URL"]) as conn:
        return conn.execute("SELECT coalesce(max(global_position), 0) FROM events").fetchone()[0]


def recorded_since(service, position):
    """``{event type: [event id, …]}`` of ``service``'s log after ``position``."""
    found = {}
    with psycopg.connect(service_config(service)["DATABASE_URL"]) as conn:
        for event_type, event_id in conn.execute(
                "SELECT event_type, event_id FROM events WHERE global_position > %s"
                " ORDER BY global_position", (position,)):
            found.setdefault(event_type, []).append(str(event_id))
    return found


# --- the day ------------------------------------------------------------------------

def confirmed():
    """A confirmed booking: ``(booking id, order code, form)``."""
    data = form()
    held = post("/bookings", data)
    assert held.status_code == 202, held.text
    booking_id = held.json()["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    assert post(f"/bookings/{booking_id}/confirm", {"code": code}).status_code == 200
    return booking_id, order_code(wait_for_mail(data["email"], "booking_order_code")), data


def another_free_time(data):
    """A free time of the booking's centre and service on a later day."""
    day = baku_today() + timedelta(days=2)
    for n in range(60):
        other = day + timedelta(days=n)
        slots = requests.get(f"{BOOKING}/centres/{data['centre']}/services/{data['service']}"
                             "/slots", params={"date": other.isoformat()}, timeout=10)
        free = [s["time"] for s in slots.json()] if slots.status_code == 200 else []
        if other.isoformat() != data["date"] and free:
            return other.isoformat(), free[0]
    raise AssertionError("no other free time in two months")


def a_day_of_bookings():
    held = form()  # held, never confirmed
    assert post("/bookings", held).status_code == 202
    wrong = form()
    answer = post("/bookings", wrong)
    assert answer.status_code == 202, answer.text
    code = confirmation_code(wait_for_mail(wrong["email"], "booking_confirmation_code"))
    rejected = post(f"/bookings/{answer.json()['booking_id']}/confirm",
                    {"code": f"{(int(code) + 1) % 10 ** 6:06d}"})
    assert rejected.status_code == 422 and rejected.json()["error"] == "code_refused"
    _, _, kept = confirmed()
    _, cancelled_code, _ = confirmed()
    assert post("/bookings/cancel", {"order_code": cancelled_code}).status_code == 200
    _, moved_code, moved = confirmed()
    day, at = another_free_time(moved)
    rescheduled = post("/bookings/reschedule", {"order_code": moved_code, "date": day,
                                                "time": at})
    assert rescheduled.status_code == 200, rescheduled.text
    lost = post("/bookings/order-code", {"id_card": kept["id_card"], "email": kept["email"],
                                         "date": kept["date"]})
    assert lost.status_code == 202, lost.text
    assert post("/bookings", form(name="")).status_code == 400  # a refused form
    return moved, moved_code  # still confirmed, its visit days ahead


def a_day_at_the_gateway(visitor, its_order_code):
    gateway = URL["kiosk_gateway"]
    kiosk = requests.post(f"{gateway}/admin/kiosks", json={"centre": visitor["centre"]},
                          headers=staff("kiosk_gateway"), timeout=10).json()
    rotated = requests.post(f"{gateway}/admin/kiosks/{kiosk['kiosk_id']}/rotate",
                            headers=staff("kiosk_gateway"), timeout=10)
    assert rotated.status_code == 200, rotated.text
    kiosk_auth = {"Authorization": f"Bearer {rotated.json()['token']}"}
    early = requests.post(f"{gateway}/kiosk/activations", json={"order_code": its_order_code},
                          headers=kiosk_auth, timeout=30)  # a visit of a later day
    assert early.status_code == 409 and early.json()["error"] == "too_early", early.text
    walk_in, (state, *_) = walk_in_with_its_expected_answer(kiosk_auth, visitor["centre"],
                                                           "passport")
    assert walk_in.status_code == (200 if state == "open" else 409), walk_in.text
    counter = requests.post(f"{gateway}/admin/counters", headers=staff("kiosk_gateway"),
                            timeout=10, json={"centre": visitor["centre"],
                                              "name": f"T{random.randrange(10 ** 6):06d}"})
    assert counter.status_code == 201, counter.text
    counter_auth = {"Authorization": f"Bearer {counter.json()['token']}"}
    for path, body in (("/counter/sign-in", {"services": ["passport"]}),
                       ("/counter/sign-out", None)):
        answer = requests.post(gateway + path, json=body, headers=counter_auth, timeout=30)
        assert answer.status_code == 200, answer.text
    for path in (f"/admin/counters/{counter.json()['counter_id']}/revoke",
                 f"/admin/kiosks/{kiosk['kiosk_id']}/revoke"):
        answer = requests.post(gateway + path, headers=staff("kiosk_gateway"), timeout=10)
        assert answer.status_code == 200, answer.text


def a_day_at_the_registry():
    registry = URL["registry"]
    surname = "Z" + "".join(random.choice(string.ascii_lowercase) for _ in range(10)) + "ova"
    born = (baku_today() - timedelta(days=40 * 365)).isoformat()
    fin = registered("Nərmin", surname, "Rauf qızı", born)
    found = requests.post(f"{registry}/fin/by-name", timeout=10, json={
        "name": "Nərmin", "surname": surname, "patronymic": "Rauf qızı", "birth_date": born})
    assert found.status_code == 200 and found.json()["fin"] == fin
    with psycopg.connect(service_config("registry")["DATABASE_URL"]) as conn:
        (card,) = conn.execute("SELECT series_number FROM id_documents WHERE fin = %s",
                               (fin,)).fetchone()
    assert requests.post(f"{registry}/fin/by-id-card", json={"id_card": card},
                         timeout=10).json()["fin"] == fin
    invalidated = requests.post(f"{registry}/admin/id-cards/invalidate", timeout=10,
                                headers=staff("registry"),
                                json={"series_number": card, "status": "lost"})
    assert invalidated.status_code == 200, invalidated.text


def a_day_of_complaints():
    complaints = URL["complaints"]
    filed = []
    for n in range(2):
        email = f"fold-{uuid.uuid4().hex[:10]}@example.az"
        answer = requests.post(f"{complaints}/complaints", timeout=10, json={
            "service": "queue_booking", "text": f"Növbə e-poçtu gəlmədi ({n}).", "name": "Rəşad",
            "patronymic": "Elçin oğlu", "surname": "Hüseynzadə", "email": email,
            "address": "Gəncə, Atatürk pr. 5"})
        assert answer.status_code == 201, answer.text
        filed.append((answer.json(), email))
    (answered, answered_email), (withdrawn, _) = filed
    base = f"{complaints}/staff/complaints/{answered['complaint_id']}"
    assert requests.post(f"{base}/assign", json={"reviewer": "r.aliyev"},
                         headers=staff("complaints"), timeout=10).status_code == 200
    assert requests.post(f"{base}/answer", headers=staff("complaints"), timeout=10, json={
        "decision": "resolved", "answer": "Düzəldildi."}).status_code == 200
    assert requests.post(f"{complaints}/complaints/withdraw", timeout=10, json={
        "reference": withdrawn["reference"]}).json()["status"] == "withdrawn"
    wait_for_mail(answered_email, "complaint_answered")


def a_report():
    made = requests.post(f"{URL['monitoring']}/reports/control", headers=staff("monitoring"),
                         json={"day": baku_today().isoformat()}, timeout=60)
    assert made.status_code == 201, made.text


@pytest.fixture(scope="module")
def day():
    """Makes the day; ``{service: {event type: [event id, …]}}`` it recorded."""
    marks = {service: last_position(service) for service in SERVICES}
    visitor, its_order_code = a_day_of_bookings()
    a_day_at_the_gateway(visitor, its_order_code)
    a_day_at_the_registry()
    a_day_of_complaints()
    a_report()
    for service in SERVICES:  # the consumers' effects (emails delivered) included
        wait_until(lambda: DAY[service] <= set(recorded_since(service, marks[service])),
                   f"the day in {service}'s event log")
    made = {service: recorded_since(service, marks[service]) for service in SERVICES}
    monitoring = service_config("monitoring")["DATABASE_URL"]
    for source, catalog in CATALOGS.items():  # what was published, applied by monitoring
        published = [event_id for event_type, ids in made[source].items()
                     if event_type in catalog and catalog[event_type].is_public
                     for event_id in ids]
        processed(monitoring, consumer_of(source), published)
    return made


@pytest.mark.parametrize("service", SERVICES)
def test_the_read_models_rebuilt_from_the_event_log_equal_the_live_ones(day, service):
    assert read_model_of(service).TABLES
    assert DAY[service] <= set(day[service])
    differences = rebuild(service)
    assert differences == [], differences


def test_the_check_is_the_command_line_an_operator_runs_and_it_sees_a_tampered_row(day):
    """``python -m shared.ops.rebuild booking --check`` exits 0 on the running platform;
    a read-model row changed behind the events' back makes it exit 1 and name the
    row by its key only (no personal data on a terminal)."""
    data = form()
    response = post("/bookings", data)
    assert response.status_code == 202, response.text
    booking_id = response.json()["booking_id"]
    command = [sys.executable, "-m", "shared.ops.rebuild", "booking", "--check"]
    clean = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    with psycopg.connect(service_config("booking")["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE bookings SET status = 'void' WHERE booking_id = %s", (booking_id,))
        try:
            tampered = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                      timeout=120)
        finally:
            conn.execute("UPDATE bookings SET status = 'requested' WHERE booking_id = %s",
                         (booking_id,))
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert booking_id in tampered.stdout and "bookings" in tampered.stdout
    assert data["email"] not in tampered.stdout and data["id_card"] not in tampered.stdout
