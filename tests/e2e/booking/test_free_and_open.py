"""Q-10 on the running platform: the real ``POST /bookings`` is free, takes no
document and needs no account (the document's side: tests/unit/booking/
test_q10_free_and_open.py).

* a person with nothing but the form — no ``Authorization``, no cookie, not even the
  pages' token — books and confirms; no answer sets a cookie (no session to keep);
* a form with a fee, a payment or a document added is refused, naming each of them
  an unknown field; an upload (multipart, a file) is refused as not JSON.
"""
import pytest
import requests

from tests.citizens import CLIENT_HEADER
from tests.mailbox import confirmation_code, wait_for_mail

from .conftest import BOOKING, form

pytestmark = pytest.mark.e2e

# A header of the test's own keeps tests.citizens from adding the pages' token; the
# address is believed only with that token, so this is a caller of its own, unnamed.
NOBODY = {CLIENT_HEADER: "198.51.100.10"}


def _post(path, **kwargs):
    answer = requests.post(f"{BOOKING}{path}", headers=NOBODY, timeout=30, **kwargs)
    sent = answer.request.headers
    assert "Authorization" not in sent and "Cookie" not in sent  # no credential at all
    return answer


def test_q10_a_person_with_only_the_form_books_and_confirms_without_an_account():
    data = form()
    requested = _post("/bookings", json=data)
    assert requested.status_code == 202, requested.text
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    confirmed = _post(f"/bookings/{requested.json()['booking_id']}/confirm",
                      json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    for answer in (requested, confirmed):
        assert "Set-Cookie" not in answer.headers
        assert set(answer.json()) <= {"booking_id", "status", "hold_expires_at", "message",
                                      "centre", "service", "date", "time"}  # no price


def test_q10_a_fee_a_payment_or_a_document_has_no_place_in_the_form():
    extra = {"fee": "5.00", "payment": {"card": "4111 1111 1111 1111"},
             "document": "passport.pdf"}
    refused = _post("/bookings", json=dict(form(), **extra))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "validation_failed"
    assert {(r["field"], r["code"]) for r in refused.json()["reasons"]} == \
        {(name, "unknown_field") for name in extra}


def test_q10_an_upload_is_not_taken():
    data = form()
    upload = _post("/bookings", data=data,
                   files={"document": ("id-card.pdf", b"%PDF-1.4\n", "application/pdf")})
    assert upload.status_code == 400, upload.text
    assert upload.json()["error"] == "invalid_json"
