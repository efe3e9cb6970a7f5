"""Q-5: a refusal names every wrong field, in Azerbaijani and English, and writes
nothing but the record of the refusal."""
from datetime import date, timedelta

import pytest

from tests import days

from .conftest import form, post

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("field, value, code", [
    ("name", "L3yla", "letters"),
    ("surname", "", "length"),
    ("patronymic", "Ali!", "letters"),
    ("id_card", "AZE123", "id_card_format"),
    ("phone", "+7 912 345 67 89", "phone"),
    ("email", "leyla@", "email"),
    ("service", "teleport", "unknown_service"),
    ("centre", "mars-1", "unknown_centre"),
    ("date", "31.02.2027", "invalid_date"),  # DD.MM.YYYY is a format, 31 February no day
    ("date", "2026-13-01", "invalid_date"),
    ("date", "9999-12-31", "out_of_range"),
    ("time", "25:00", "invalid_time"),
])
def test_each_invalid_field_is_refused_with_its_reason(field, value, code):
    response = post("/bookings", form(**{field: value}))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_failed"
    reasons = {(r["field"], r["code"]) for r in body["reasons"]}
    assert (field, code) in reasons
    assert all(r["az"] and r["en"] for r in body["reasons"])


def test_issue12_a_date_written_dd_mm_yyyy_is_accepted():
    """How dates are written in Azerbaijan: 15.12.2026 is the 15th of December."""
    data = form()
    day = date.fromisoformat(data["date"])
    response = post("/bookings", dict(data, date=f" {day:%d.%m.%Y} "))
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("missing", ["name", "surname", "patronymic", "id_card", "phone",
                                     "email", "service", "centre", "date", "time"])
def test_every_field_of_the_form_is_required(missing):
    data = form()
    del data[missing]
    response = post("/bookings", data)
    assert response.status_code == 400
    assert (missing, "required") in {(r["field"], r["code"]) for r in response.json()["reasons"]}


def test_every_reason_is_given_at_once():
    today = days.today()
    response = post("/bookings", form(name="1", id_card="X", email="no", date=today.isoformat()))
    fields = {r["field"] for r in response.json()["reasons"]}
    assert fields == {"name", "id_card", "email", "date"}


@pytest.mark.parametrize("offset", [0, -1, -30])
def test_q1_today_and_past_dates_are_refused(offset):
    day = days.today() + timedelta(days=offset)
    response = post("/bookings", form(date=day.isoformat()))
    assert response.status_code == 400
    assert ("date", "too_late") in {(r["field"], r["code"]) for r in response.json()["reasons"]}


def date_reasons(response):
    assert response.status_code == 400, response.text
    return [(r["code"], r["en"]) for r in response.json()["reasons"] if r["field"] == "date"]


def test_q1_a_day_the_centre_does_not_open_is_refused_as_closed():
    data = form()
    day = days.closed_day(centre=data["centre"])  # a weekend day that is no holiday
    response = post("/bookings", dict(data, date=day.isoformat()))
    assert [code for code, _ in date_reasons(response)] == ["closed"]


def test_q1_a_public_holiday_is_refused_as_a_holiday_by_its_name():
    day = days.holiday()
    if day is None:  # booking refuses a day beyond its horizon before asking the calendar
        pytest.skip(f"no public holiday within the next {days.HORIZON} days; "
                    "tests/integration/booking/test_holds.py refuses one on a test clock")
    response = post("/bookings", form(date=day.isoformat()))
    [(code, text)] = date_reasons(response)
    assert code == "holiday" and days.holiday_name(day) in text


def test_a_time_outside_the_slots_is_refused():
    response = post("/bookings", form(time="07:00"))
    assert ("time", "no_such_slot") in {(r["field"], r["code"]) for r in response.json()["reasons"]}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"", "{\"name\": \"\u0259\"".encode()])
def test_a_body_that_is_not_a_json_object_is_a_clear_400(body):
    import requests

    from .conftest import BOOKING

    response = requests.post(f"{BOOKING}/bookings", data=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_json", "validation_failed")
