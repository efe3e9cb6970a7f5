"""The booking form and the emails it asks for (issue 12 item 5), with the booking
service in-process on the real database and its clock replaced: a local part no
relay without SMTPUTF8 can take is refused on the form with its reason (Q-5); a
Unicode domain is taken; each email request says until when it is of use — the
code email until the hold expires (Q-2), the order-code email until the visit
(Q-4), the cancellation for 72 hours. (No relay runs here: the requests wait in the
outbox, where the test reads them.)"""
import json
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.booking.service import BookingService
from shared.vocabulary.clock import BAKU
from shared.vocabulary.email_address import LOCAL_PART
from shared.runtime.config import service_config

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)


@pytest.fixture
def booking(container_factory, rabbit_config, fresh_database, free_port):
    container = container_factory(BookingService, dict(
        service_config("booking"), **rabbit_config,
        DATABASE_URL=fresh_database, WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port}",
        BOOKING_CODE_KEY="test-key", HOLD_SWEEP_SECONDS=3600, LAPSE_SWEEP_SECONDS=3600))
    replace_dependencies(container, "clock").return_value = NOW
    container.start()
    return f"http://127.0.0.1:{free_port}", fresh_database


def form(email):
    return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "phone": "+994501234567",
            "email": email, "service": "apostille", "centre": "baku-1",
            "date": "2026-11-24", "time": "10:15"}


def email_requests(database):
    """The data of every EmailRequested waiting in the outbox, oldest first."""
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT body FROM outbox WHERE routing_key = 'EmailRequested'"
                            " ORDER BY id").fetchall()
    return [json.loads(bytes(body))["data"] for (body,) in rows]


def test_q5_a_local_part_that_is_not_ascii_is_refused_on_the_form_with_the_reason(booking):
    url, database = booking
    response = requests.post(f"{url}/bookings", json=form("ləylə@bakı.az"), timeout=10)
    assert response.status_code == 400
    assert response.json()["reasons"] == [{"field": "email", "code": "email_local_part",
                                           "az": LOCAL_PART.az, "en": LOCAL_PART.en}]
    assert email_requests(database) == []


def test_q2_q4_a_unicode_domain_is_taken_and_each_email_is_tried_while_of_use(booking):
    url, database = booking
    response = requests.post(f"{url}/bookings", json=form("Leyla@BAKI.az"), timeout=10)
    assert response.status_code == 202, response.text
    booking_id = response.json()["booking_id"]
    [code_email] = email_requests(database)
    assert code_email["to"] == "Leyla@baki.az"
    assert datetime.fromisoformat(code_email["deliver_by"]) == NOW + timedelta(minutes=15)
    assert code_email["deliver_by"] == response.json()["hold_expires_at"]

    confirmed = requests.post(f"{url}/bookings/{booking_id}/confirm",
                              json={"code": code_email["variables"]["code"]}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    order_email = email_requests(database)[1]
    assert datetime.fromisoformat(order_email["deliver_by"]) == \
        datetime(2026, 11, 24, 10, 15, tzinfo=BAKU)  # the visit, Baku time

    cancelled = requests.post(f"{url}/bookings/cancel", timeout=10, json={
        "order_code": order_email["variables"]["order_code"]})
    assert cancelled.status_code == 200, cancelled.text
    receipt = email_requests(database)[2]
    assert datetime.fromisoformat(receipt["deliver_by"]) == NOW + timedelta(hours=72)

    unicode_domain = requests.post(f"{url}/bookings", json=form("leyla@bakı.az"), timeout=10)
    assert unicode_domain.status_code == 202
    assert email_requests(database)[3]["to"] == "leyla@bakı.az"  # kept as typed; IDNA on SMTP
