"""Personal data stays out of logs (non-negotiable 6, issue 12 §8): a whole journey
through every service — a booking with its two codes, a kiosk, the FIN lookup both
ways, a complaint, the call centre's search, and hostile requests that put an ID
card into URLs — and then no service or relay log, nor the database's log, holds
the ID card, FIN, codes, email or phone of that journey."""
import os
import random
import re
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from shared.runtime.config import REPO_ROOT, service_config
from tests import chance, days
from tests.mailbox import confirmation_code, order_code, wait_for_mail
from tests.markers import wait_until

from .booking.conftest import BOOKING, form, post

pytestmark = pytest.mark.e2e
LOG_DIR = Path(os.environ.get("ASAN_LOG_DIR") or REPO_ROOT / ".state" / "log")
# The outside world's logs, not ours: the SMTP sink is the citizen's mail server.
NOT_OURS = {"mailsink.log", "rabbitmq.log", "initdb.log"}
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
REGISTRY = "http://" + service_config("registry")["WEB_SERVER_ADDRESS"]
COMPLAINTS = "http://" + service_config("complaints")["WEB_SERVER_ADDRESS"]


def _a_person_with_a_valid_card():
    """Any loaded person with a card valid through the test: the test's seeded choice."""
    with psycopg.connect(service_config("registry")["DATABASE_URL"]) as conn:
        conn.execute("SELECT setseed(%s)", (chance.rng().uniform(-1, 1),))
        return conn.execute(
            "SELECT p.fin, p.name, p.surname, p.patronymic, p.birth_date, d.series_number"
            " FROM persons p JOIN id_documents d ON d.fin = p.fin AND d.status = 'valid'"
            " AND d.expires_on >= %s ORDER BY random() LIMIT 1",
            (days.card_valid_through(),)).fetchone()


def _journey():
    """Returns every secret and personal datum the journey used."""
    phone_local = f"50 {random.randrange(100, 999)} {random.randrange(10, 99)} " \
                  f"{random.randrange(10, 99)}"
    data = form(phone=f"+994 {phone_local}")
    requested = post("/bookings", data)
    assert requested.status_code == 202, requested.text
    booking_id = requested.json()["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    assert post(f"/bookings/{booking_id}/confirm", {"code": code}).status_code == 200
    order = order_code(wait_for_mail(data["email"], "booking_order_code"))

    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": data["centre"]},
                          headers={"Authorization": "Bearer admin-dev-token"}, timeout=10).json()
    activation = requests.post(f"{GATEWAY}/kiosk/activations", json={"order_code": order},
                               headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30)
    assert activation.status_code == 409, activation.text  # the visit is days ahead
    assert activation.json()["error"] == "too_early"

    operator = {"Authorization": "Bearer operator-dev-token"}
    for criterion in ({"id_card": data["id_card"]}, {"email": data["email"]},
                      {"phone": data["phone"]}, {"order_code": order}):
        assert requests.post(f"{BOOKING}/operator/bookings/search", json=criterion,
                             headers=operator, timeout=10).status_code == 200

    fin, name, surname, patronymic, born, card = _a_person_with_a_valid_card()
    assert requests.post(f"{REGISTRY}/fin/by-id-card", json={"id_card": card},
                         timeout=10).json()["fin"] == fin.strip()
    requests.post(f"{REGISTRY}/fin/by-name", timeout=10, json={
        "name": name, "surname": surname, "patronymic": patronymic,
        "birth_date": born.isoformat()})

    complainant = f"complainant-{uuid.uuid4().hex[:10]}@example.az"
    filed = requests.post(f"{COMPLAINTS}/complaints", timeout=10, json={
        "service": "queue_booking", "text": "Növbə e-poçtu gəlmədi.", "name": "Rəşad",
        "patronymic": "Elçin oğlu", "surname": "Hüseynzadə", "address": "Gəncə, Atatürk pr. 5",
        "email": complainant})
    assert filed.status_code == 201, filed.text

    # Hostile and careless requests that put identifiers where they do not belong.
    requests.get(f"{BOOKING}/bookings/{data['id_card']}?email={data['email']}", timeout=10)
    requests.post(f"{REGISTRY}/admin/id-cards/{card}/invalidate", json={"status": "lost"},
                  headers={"Authorization": "Bearer registry-dev-token"}, timeout=10)
    requests.post(f"{BOOKING}/bookings/{booking_id}/confirm", json={"code": code, "x": "\0"},
                  timeout=10)
    return {"id card": data["id_card"], "card": card, "FIN": fin.strip(),
            "email": data["email"], "complainant": complainant,
            "phone": phone_local, "phone E.164": "+994" + phone_local.replace(" ", ""),
            "confirmation code": code, "order code": order,
            "order code plain": order.replace("-", "")}


def _after_what_the_journey_set_off(complainant):
    """Waits for markers that come after whatever the journey made a service or relay
    log: the complaint's receipt emailed (complaints, its relay, notification), a
    booking made now with its code emailed (booking, its relay and notification, after
    the journey's own emails), and a request of ours, by its correlation id, in each
    service's log (a service writes a request's line before it answers)."""
    wait_for_mail(complainant, "complaint_acknowledged")
    later = form()
    assert post("/bookings", later).status_code == 202
    wait_for_mail(later["email"], "booking_confirmation_code")
    for service in ("booking", "notification", "kiosk_gateway", "registry", "complaints"):
        marker = str(uuid.uuid4())
        url = "http://" + service_config(service)["WEB_SERVER_ADDRESS"]
        assert requests.get(f"{url}/health", headers={"X-Correlation-Id": marker},
                            timeout=10).status_code == 200
        wait_until(lambda: marker in (LOG_DIR / f"{service}.log").read_text("utf-8"),
                   f"the marker request in {service}.log")


def test_no_log_holds_the_personal_data_or_codes_of_a_journey():
    secrets = _journey()
    _after_what_the_journey_set_off(secrets["complainant"])
    logs = [path for path in LOG_DIR.glob("*.log") if path.name not in NOT_OURS]
    assert {"booking.log", "booking-relay.log", "notification.log", "registry.log",
            "kiosk_gateway.log", "complaints.log"} <= {path.name for path in logs}
    found = []
    for path in logs:
        text = path.read_text("utf-8", errors="replace")
        for what, value in secrets.items():
            # as a token of its own: a six-digit code may well occur inside a uuid
            if re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text):
                found.append(f"{path.name}: {what}")
    assert found == []
