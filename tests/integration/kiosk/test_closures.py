"""Issue 17 §6 at the kiosks: a day staff closed at booking (the whole centre, or one
service at it) prints no walk-in ticket; the gateway learns it with the service
catalogue, asked again every ``CLOSURES_REFRESH_SECONDS`` (here every call)."""
import hashlib

import pytest
import requests

pytestmark = pytest.mark.integration
STAFF = {"Authorization": "Bearer closure-test-token"}


@pytest.fixture
def stack(start_stack):
    return start_stack(
        booking_config={"CLOSURE_TOKEN_SHA256": [
            hashlib.sha256(b"closure-test-token").hexdigest()]},
        gateway_config={"CLOSURES_REFRESH_SECONDS": 0})


def walk_in(stack, token, service):
    return requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": service},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_no_walk_in_ticket_on_a_day_closed_by_staff(stack):
    token = stack.kiosk("baku-1")["token"]  # Monday 23 November 2026, 10:00 in Baku
    other = stack.kiosk("baku-2")["token"]
    assert walk_in(stack, token, "passport").status_code == 200  # the catalogue is cached

    closed = requests.post(f"{stack.booking_url}/admin/closures", headers=STAFF, timeout=30,
                           json={"centre": "baku-1", "service": "passport",
                                 "date": "2026-11-23", "reason": "technical_fault"})
    assert closed.status_code == 201, closed.text
    refused = walk_in(stack, token, "passport")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "centre_closed"
    assert refused.json()["message"]["az"] and refused.json()["message"]["en"]
    assert walk_in(stack, token, "apostille").status_code == 200  # another service
    assert walk_in(stack, other, "passport").status_code == 200  # another centre

    whole = requests.post(f"{stack.booking_url}/admin/closures", headers=STAFF, timeout=30,
                          json={"centre": "baku-1", "date": "2026-11-23",
                                "reason": "power_outage"})
    assert whole.status_code == 201, whole.text
    assert walk_in(stack, token, "apostille").status_code == 409
    stack.clock.set("2026-11-24", "10:00")  # the next day the centre is open again
    assert walk_in(stack, token, "passport").status_code == 200


def test_closing_today_cancels_the_bookings_not_yet_activated_and_keeps_the_ticket_of_one_that_was(
        stack):
    activated, code = stack.confirmed_booking(at="10:15")
    waiting, later_code = stack.confirmed_booking(at="11:00")
    token = stack.kiosk("baku-1")["token"]
    stack.clock.set("2026-11-24", "10:05")
    assert stack.activate(token, code).status_code == 200  # the visitor is in the queue

    closed = requests.post(f"{stack.booking_url}/admin/closures", headers=STAFF, timeout=30,
                           json={"centre": "baku-1", "date": "2026-11-24",
                                 "reason": "emergency"})
    assert closed.status_code == 201, closed.text
    assert closed.json()["cancelled"] == 1
    assert stack.booking_events(activated)[-1] == "BookingActivated"
    assert stack.booking_events(waiting)[-1] == "BookingCancelled"
    stack.clock.set("2026-11-24", "10:45")
    assert stack.activate(token, later_code).status_code == 404  # no longer a booking
