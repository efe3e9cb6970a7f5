"""Seed 000 end to end over the real HTTP API, PostgreSQL, RabbitMQ and SMTP: the
code and the order code are read from the emails the mail sink received."""
import eventlet
import pytest
import requests

from shared.vocabulary.dates import day_text
from tests.citizens import as_citizen
from tests.mailbox import confirmation_code, order_code, text_of, wait_for_mail

from .conftest import BOOKING, form, free_slot, new_email, new_id_card, post

pytestmark = pytest.mark.e2e
OPERATOR = {"Authorization": "Bearer operator-dev-token"}


def free_places(data):
    slots = requests.get(f"{BOOKING}/centres/{data['centre']}/services/{data['service']}/slots",
                         params={"date": data["date"]}, timeout=10).json()
    return next(s["free"] for s in slots if s["time"] == data["time"])


def test_q1_to_q4_request_confirm_then_cancel(booking_form):
    response = post("/bookings", booking_form)
    assert response.status_code == 202, response.text
    booking_id = response.json()["booking_id"]

    code_mail = wait_for_mail(booking_form["email"], "booking_confirmation_code")
    # issue 23 §5: the day as read here, with its weekday in the booking's language
    assert day_text(booking_form["date"], booking_form.get("language", "az")) in \
        text_of(code_mail)
    confirmed = post(f"/bookings/{booking_id}/confirm", {"code": confirmation_code(code_mail)})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"  # registered

    order_mail = wait_for_mail(booking_form["email"], "booking_order_code")  # at once
    code = order_code(order_mail)
    assert code.replace("-", "") not in confirmed.text  # the code travels by email only

    assert free_places(booking_form) == 2  # passport: 3 counters, one taken
    cancelled = post("/bookings/cancel", {"order_code": code.lower()})
    assert cancelled.status_code == 200, cancelled.text
    assert free_places(booking_form) == 3  # the cancellation freed the place
    wait_for_mail(booking_form["email"], "booking_cancelled")
    again = post("/bookings/cancel", {"order_code": code})
    assert again.status_code == 404  # the code no longer names an active booking


def test_q6_a_wrong_code_is_refused_with_tries_left_and_five_void_the_request(booking_form):
    booking_id = post("/bookings", booking_form).json()["booking_id"]
    right = confirmation_code(wait_for_mail(booking_form["email"], "booking_confirmation_code"))
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    answers = [post(f"/bookings/{booking_id}/confirm", {"code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers] == [422] * 5
    assert [a.json()["reasons"][0]["field"] for a in answers[:4]] == ["code"] * 4
    assert "Tries left: 4" in answers[0].json()["message"]["en"]
    assert answers[-1].json()["message"]["en"].startswith("The code was entered wrongly")
    late = post(f"/bookings/{booking_id}/confirm", {"code": right})
    assert late.status_code == 409  # void: even the right code is refused now
    # the slot was freed: the same time can be booked again
    again = form(centre=booking_form["centre"], date=booking_form["date"],
                 time=booking_form["time"])
    assert post("/bookings", again).status_code == 202


def test_at_most_one_active_booking_per_id_card_service_and_day(booking_form):
    assert post("/bookings", booking_form).status_code == 202
    second = dict(booking_form, email=new_email())
    refused = post("/bookings", second)
    assert refused.status_code == 409
    assert refused.json()["reasons"][0]["field"] == "id_card"


def test_200_concurrent_requests_for_a_slot_of_capacity_3_give_exactly_3_bookings():
    centre, day, at = free_slot("passport")  # 3 counters
    forms = [form(centre=centre, date=day.isoformat(), time=at, id_card=new_id_card(),
                  email=new_email()) for _ in range(200)]
    pool = eventlet.GreenPool(200)
    # 200 citizens: each with an address of its own, as the pages forward it
    answers = list(pool.imap(lambda f: (f, post("/bookings", f, headers=as_citizen())), forms))
    accepted = [(f, r.json()["booking_id"]) for f, r in answers if r.status_code == 202]
    refused = [r for _, r in answers if r.status_code != 202]
    assert len(accepted) == 3
    assert {r.status_code for r in refused} == {409}
    assert {r.json()["reasons"][0]["code"] for r in refused} == {"slot_full"}
    for f, booking_id in accepted:
        code = confirmation_code(wait_for_mail(f["email"], "booking_confirmation_code"))
        assert post(f"/bookings/{booking_id}/confirm", {"code": code}).status_code == 200
    slots = requests.get(f"{BOOKING}/centres/{centre}/services/passport/slots",
                         params={"date": day.isoformat()}, timeout=10).json()
    assert [s["free"] for s in slots if s["time"] == at] == [0]


def test_q9_the_call_centre_finds_a_booking_and_sees_its_history(booking_form):
    booking_id = post("/bookings", booking_form).json()["booking_id"]
    code = confirmation_code(wait_for_mail(booking_form["email"], "booking_confirmation_code"))
    post(f"/bookings/{booking_id}/confirm", {"code": "999999" if code != "999999" else "000000"})
    post(f"/bookings/{booking_id}/confirm", {"code": code})

    assert post("/operator/bookings/search", {"id_card": booking_form["id_card"]}).status_code \
        == 401
    found = post("/operator/bookings/search", {"id_card": booking_form["id_card"].lower()},
                 headers=OPERATOR).json()["bookings"]
    assert [b["booking_id"] for b in found] == [booking_id]
    detail = requests.get(f"{BOOKING}/operator/bookings/{booking_id}", headers=OPERATOR,
                          timeout=10).json()
    assert [e["type"] for e in detail["history"]] == \
        ["BookingRequested", "CodeRejected", "CodeConfirmed"]
    assert "code_hash" not in str(detail) and code not in str(detail["history"])
