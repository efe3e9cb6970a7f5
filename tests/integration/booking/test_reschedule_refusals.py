"""Moving a booking (issue 17 §5) to a day staff closed (issue 17 §6) is refused 409
``centre_closed``, and once its time has come 409 ``visit_started``; the booking
stays as it was. Booking in-process on a clock the test sets."""
import hashlib

import pytest
import requests

from tests.integration.kiosk.conftest import start_stack  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration
STAFF = {"Authorization": "Bearer closure-test-token"}


@pytest.fixture
def stack(start_stack):
    return start_stack(booking_config={"CLOSURE_TOKEN_SHA256": [
        hashlib.sha256(b"closure-test-token").hexdigest()]})


def move(stack, order_code, day, at):
    return requests.post(f"{stack.booking_url}/bookings/reschedule", timeout=30,
                         json={"order_code": order_code, "date": day, "time": at})


def refused(answer, error, en, az):
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["error"] == error and (body["message"]["en"], body["message"]["az"]) == (en, az)


def test_a_booking_is_not_moved_to_a_day_the_centre_is_closed(stack):
    booking_id, order_code = stack.confirmed_booking(day="2026-11-24", at="10:15")
    history = stack.booking_events(booking_id)
    closed = requests.post(f"{stack.booking_url}/admin/closures", headers=STAFF, timeout=30,
                           json={"centre": "baku-1", "date": "2026-11-25",
                                 "reason": "technical_fault"})
    assert closed.status_code == 201, closed.text
    refused(move(stack, order_code, "2026-11-25", "10:15"), "centre_closed",
            "The centre is closed for this service on that day; please choose another day.",
            "Mərkəz həmin gün bu xidmət üçün bağlıdır; başqa gün seçin.")
    assert stack.booking_events(booking_id) == history
    assert move(stack, order_code, "2026-11-26", "10:15").status_code == 200  # another day


def test_a_booking_is_not_moved_once_its_time_has_come(stack):
    booking_id, order_code = stack.confirmed_booking(day="2026-11-24", at="10:15")
    history = stack.booking_events(booking_id)
    stack.clock.set("2026-11-24", "10:15")
    refused(move(stack, order_code, "2026-11-26", "10:15"), "visit_started",
            "The booked time has come; the booking can no longer be moved.",
            "Növbənin vaxtı artıq çatıb; dəyişmək olmaz.")
    assert stack.booking_events(booking_id) == history
