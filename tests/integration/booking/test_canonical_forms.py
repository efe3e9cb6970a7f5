"""Issue 12 on the real database and broker, booking in-process: an identifier typed
in another script's digits is the same identifier. The ID card is stored once, in
one form, so "one booking per ID card, service and day" holds (Q-5) and the call
centre finds it (Q-9); the right confirmation code in full-width digits confirms
(Q-3); a malformed code is refused before it can cost a try (Q-6)."""
import hashlib
import json
import uuid
from datetime import datetime

import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from shared.vocabulary.clock import BAKU
from services.booking.service import BookingService
from shared.runtime.config import service_config

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": "Bearer operator-test-token"}
ARABIC_INDIC, EXTENDED_ARABIC_INDIC, FULL_WIDTH = "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "０１２３４５６７８９"


def spelled(text, digits):
    return "".join(digits[int(c)] if c.isascii() and c.isdigit() else c for c in text)


@pytest.fixture
def booking(container_factory, rabbit_config, fresh_database, free_port):
    config = dict(service_config("booking"), **rabbit_config, DATABASE_URL=fresh_database,
                  BOOKING_CODE_KEY="test-key",
                  WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port}", HOLD_SWEEP_SECONDS=3600,
                  LAPSE_SWEEP_SECONDS=3600, OPERATOR_TOKEN_SHA256=[
                      hashlib.sha256(b"operator-test-token").hexdigest()])
    container = container_factory(BookingService, config)
    clock = replace_dependencies(container, "clock")
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)  # a Monday
    container.start()
    return f"http://127.0.0.1:{free_port}", fresh_database


def form(id_card, day="2026-11-24", at="10:15", service="apostille"):
    return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": id_card, "phone": "+994501234567",
            "email": f"c-{uuid.uuid4().hex[:8]}@example.az", "service": service,
            "centre": "baku-1", "date": day, "time": at}


def request_booking(url, **fields):
    return requests.post(f"{url}/bookings", json=form(**fields), timeout=10)


def emailed_code(database, booking_id):
    """The confirmation code, from the private email request waiting in the outbox
    (no relay runs here)."""
    with psycopg.connect(database) as conn:
        for (body,) in conn.execute("SELECT body FROM outbox WHERE exchange = 'booking.private'"):
            data = json.loads(bytes(body))["data"]
            if data["reference"] == f"booking-{booking_id}":
                return data["variables"]["code"]
    raise AssertionError(f"no code for {booking_id}")


def events_of(database, booking_id):
    with psycopg.connect(database) as conn:
        return [row[0] for row in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version",
            (f"booking-{booking_id}",))]


def test_q5_the_same_id_card_in_three_scripts_is_one_card_booked_once(booking):
    url, database = booking
    first = request_booking(url, id_card=spelled("AZE20261124", ARABIC_INDIC), at="10:15")
    assert first.status_code == 202, first.text
    for digits, at in ((EXTENDED_ARABIC_INDIC, "10:30"), (FULL_WIDTH, "10:45")):
        again = request_booking(url, id_card=spelled("aze 2026 1124", digits), at=at)
        assert again.status_code == 409, again.text
        assert [r["code"] for r in again.json()["reasons"]] == ["already_booked"]
    with psycopg.connect(database) as conn:
        stored = conn.execute("SELECT id_card FROM bookings").fetchall()
    assert stored == [("AZE20261124",)]

    # the call centre finds it, whichever way the card is typed
    for typed in ("AZE20261124", spelled("AZE2026-1124", FULL_WIDTH)):
        found = requests.post(f"{url}/operator/bookings/search", json={"id_card": typed},
                              headers=OPERATOR, timeout=10)
        assert found.status_code == 200, found.text
        assert [b["booking_id"] for b in found.json()["bookings"]] == \
            [first.json()["booking_id"]]
    phone = requests.post(f"{url}/operator/bookings/search", headers=OPERATOR, timeout=10,
                          json={"phone": spelled("050 123 45 67", ARABIC_INDIC)})
    assert len(phone.json()["bookings"]) == 1


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC])
def test_q3_the_right_code_in_other_digits_confirms(booking, digits):
    url, database = booking
    booking_id = request_booking(url, id_card="AZE10000001").json()["booking_id"]
    code = emailed_code(database, booking_id)
    confirmed = requests.post(f"{url}/bookings/{booking_id}/confirm",
                              json={"code": f" {spelled(code, digits)} "}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert events_of(database, booking_id) == ["BookingRequested", "CodeConfirmed"]


# Ethiopic digits: str.isdigit() took them for a code, which then cost a try.
@pytest.mark.parametrize("malformed", ["12345x", "1234567", "12345", "", "٠٤٢٥١٧x", "፩፪፫፬፭፮"])
def test_q6_a_malformed_code_is_a_400_and_costs_no_try(booking, malformed):
    url, database = booking
    booking_id = request_booking(url, id_card="AZE10000002").json()["booking_id"]
    answer = requests.post(f"{url}/bookings/{booking_id}/confirm", json={"code": malformed},
                           timeout=10)
    assert answer.status_code == 400
    assert [(r["field"], r["code"]) for r in answer.json()["reasons"]] in (
        [("code", "code_format")], [("code", "required")])
    assert events_of(database, booking_id) == ["BookingRequested"]  # no CodeRejected
    code = emailed_code(database, booking_id)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    refused = requests.post(f"{url}/bookings/{booking_id}/confirm", json={"code": wrong},
                            timeout=10)
    assert refused.status_code == 422
    assert "Tries left: 4" in refused.json()["message"]["en"]  # the first wrong try of five


def test_issue12_a_date_written_dd_mm_yyyy_books_that_day(booking):
    url, database = booking
    answer = request_booking(url, id_card="AZE10000003", day=" 24.11.2026 ")
    assert answer.status_code == 202, answer.text
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT day::text FROM bookings").fetchone()[0] == "2026-11-24"
    slots = requests.get(f"{url}/centres/baku-1/services/apostille/slots",
                         params={"date": "24.11.2026"}, timeout=10)
    assert slots.status_code == 200
    assert next(s for s in slots.json() if s["time"] == "10:15")["free"] == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "31.12.9999"])
def test_issue12_a_date_out_of_range_is_a_400_not_a_500(booking, day):
    url, _ = booking
    answer = request_booking(url, id_card="AZE10000004", day=day)
    assert answer.status_code == 400
    assert ("date", "out_of_range") in {(r["field"], r["code"]) for r in answer.json()["reasons"]}
    slots = requests.get(f"{url}/centres/baku-1/services/apostille/slots",
                         params={"date": day}, timeout=10)
    assert slots.status_code == 400
    assert slots.json()["reasons"][0]["code"] == "out_of_range"


def test_q5_id_cards_stored_before_in_other_digits_are_made_canonical(make_database):
    """Migration 0103: the rows stored before issue 12, as typed, take the one form."""
    from pathlib import Path

    from yoyo import get_backend, read_migrations

    from shared.runtime.db import PLATFORM_MIGRATIONS, apply_migrations, yoyo_url

    folder = Path(__file__).resolve().parents[3] / "services" / "booking" / "migrations"
    database = make_database()
    backend = get_backend(yoyo_url(database))
    before = read_migrations(str(PLATFORM_MIGRATIONS), str(folder)).filter(
        lambda migration: migration.id != "0104_canonical_id_cards")
    with backend.lock():
        backend.apply_migrations(backend.to_apply(before))
    typed = [spelled("AZE20261124", ARABIC_INDIC), spelled("AZE20261124", EXTENDED_ARABIC_INDIC),
             "AZE12345678", "not a card"]
    with psycopg.connect(database) as conn:
        for id_card in typed:
            conn.execute(
                "INSERT INTO bookings (booking_id, status, centre, service, day, slot_time, name,"
                " surname, patronymic, id_card, phone, email, language, channel,"
                " hold_expires_at, version, requested_at) VALUES (%s, 'confirmed', 'baku-1',"
                " 'apostille', '2026-11-24', '10:15', 'Leyla', 'Məmmədova', 'Əli qızı', %s,"
                " '+994501234567', 'l@example.az', 'az', 'api', now(), 2, now())",
                (uuid.uuid4(), id_card))
    assert apply_migrations(database, folder) == ["0104_canonical_id_cards"]
    with psycopg.connect(database) as conn:
        stored = sorted(row[0] for row in conn.execute("SELECT id_card FROM bookings"))
    assert stored == ["AZE12345678", "AZE20261124", "AZE20261124", "not a card"]
