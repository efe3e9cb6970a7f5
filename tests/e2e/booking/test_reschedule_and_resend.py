"""Issue 17 §5 end to end over the real HTTP API, PostgreSQL, RabbitMQ and SMTP: a
booking moved with its order code (one email with the new time, the places moved,
the code still valid) and a lost order code replaced by a new one sent to the
booking's address (the old one stops working). The reminder (§4) needs the clock
moved: tests/integration/booking/test_reschedule_and_reminder.py."""
import pytest
import requests

from tests.mailbox import confirmation_code, order_code, text_of, wait_for_mail

from .conftest import BOOKING, post

pytestmark = pytest.mark.e2e


def _slots(data):
    return {s["time"]: s for s in requests.get(
        f"{BOOKING}/centres/{data['centre']}/services/{data['service']}/slots",
        params={"date": data["date"]}, timeout=10).json()}


def _confirmed(data):
    held = post("/bookings", data)
    assert held.status_code == 202, held.text
    code = wait_for_mail(data["email"], "booking_confirmation_code")
    confirmed = post(f"/bookings/{held.json()['booking_id']}/confirm",
                     {"code": confirmation_code(code)})
    assert confirmed.status_code == 200, confirmed.text
    return order_code(wait_for_mail(data["email"], "booking_order_code"))


def test_i17_a_booking_moved_with_its_order_code_keeps_it_and_gets_one_email(booking_form):
    code = _confirmed(booking_form)
    slots = _slots(booking_form)
    new_time = next(t for t, s in slots.items()
                    if t != booking_form["time"] and s["free"] == s["capacity"])
    moved = post("/bookings/reschedule", {"order_code": code, "date": booking_form["date"],
                                          "time": new_time})
    assert moved.status_code == 200, moved.text
    assert moved.json()["time"] == new_time
    slots = _slots(booking_form)
    assert slots[booking_form["time"]]["free"] == slots[booking_form["time"]]["capacity"]
    assert slots[new_time]["free"] == slots[new_time]["capacity"] - 1
    mail = wait_for_mail(booking_form["email"], "booking_rescheduled")
    assert new_time in text_of(mail) and booking_form["time"] in text_of(mail)
    assert code.replace("-", "") not in moved.text
    assert post("/bookings/cancel", {"order_code": code}).status_code == 200


def test_q4_i17_a_lost_order_code_is_replaced_by_email_and_the_old_one_stops(booking_form):
    old = _confirmed(booking_form)
    ask = {"id_card": booking_form["id_card"], "email": booking_form["email"],
           "date": booking_form["date"]}
    answer = post("/bookings/order-code", ask)
    assert answer.status_code == 202, answer.text
    new = order_code(wait_for_mail(booking_form["email"], "booking_order_code_reissued"))
    assert new != old and new.replace("-", "") not in answer.text
    assert post("/bookings/cancel", {"order_code": old}).status_code == 404
    assert post("/bookings/cancel", {"order_code": new}).status_code == 200
    nobody = post("/bookings/order-code", dict(ask, email="nobody@example.az"))
    assert (nobody.status_code, nobody.json()) == (202, answer.json())
