"""The delivery states of a booking's emails (notification's ``GET /emails/{reference}``)
are staff only: booking ids are in public events, and whether and when a citizen's
emails arrived is theirs (D-1). The call centre's token, the one booking's staff
routes take, opens them; anything else is a 401 in the one bilingual error shape."""
import pytest
import requests

from shared.runtime.config import service_config
from tests.mailbox import wait_for_mail

from .conftest import post

pytestmark = pytest.mark.e2e
NOTIFICATION = "http://" + service_config("notification")["WEB_SERVER_ADDRESS"]
OPERATOR = "operator-dev-token"  # the call centre's development token (docs/OPERATIONS.md)


def emails_of(booking_id, headers=None):
    return requests.get(f"{NOTIFICATION}/emails/booking-{booking_id}", headers=headers or {},
                        timeout=10)


def unauthorized(response):
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "unauthorized"
    assert body["message"]["az"] and body["message"]["en"]
    assert body["reasons"] and all(r["az"] and r["en"] for r in body["reasons"])
    assert "booking_confirmation_code" not in response.text
    return body


def test_d1_a_bookings_email_states_need_the_call_centres_token(booking_form):
    requested = post("/bookings", booking_form)
    assert requested.status_code == 202, requested.text
    booking_id = requested.json()["booking_id"]
    wait_for_mail(booking_form["email"], "booking_confirmation_code")

    unauthorized(emails_of(booking_id))
    unauthorized(emails_of(booking_id, {"Authorization": "Bearer not-the-operator-token"}))
    unauthorized(emails_of(booking_id, {"Authorization": "Bearer complaints-dev-token"}))
    unauthorized(emails_of(booking_id, {"Authorization": OPERATOR}))  # no scheme

    staff = emails_of(booking_id, {"Authorization": f"Bearer {OPERATOR}"})
    assert staff.status_code == 200, staff.text
    assert "booking_confirmation_code" in [email["template"] for email in staff.json()]
