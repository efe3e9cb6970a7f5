"""Overload is answered at once, in the documented shape (issue 15 §5).

The booking service runs in-process on the real database with room for two requests
at a time (``HTTP_MAX_PENDING: 2``) and a clock that takes half a second, so two
requests occupy it: the others sent meanwhile get 503 ``unavailable`` with
``Retry-After`` and ``Connection: close`` without waiting, the probes are still
answered, and once the two are done the service books again."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from shared.clock import BAKU

from .test_holds import booking, form  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_requests_beyond_the_bound_get_503_at_once_and_probes_still_answer(booking):
    container, clock, url = booking(HTTP_MAX_PENDING=2)

    def slow_clock():
        time.sleep(0.5)  # a worker busy on a slow neighbour
        return datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)

    clock.side_effect = slow_clock
    times = ["10:15", "10:30", "10:45", "11:00", "11:15", "11:30"]

    def book(at):
        return requests.post(f"{url}/bookings", json=form("2026-11-24", at), timeout=30)

    with ThreadPoolExecutor(len(times)) as pool:
        answers = list(pool.map(book, times))
        live = requests.get(f"{url}/live", timeout=10)
    assert live.status_code == 200
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(202) >= 1 and set(statuses) == {202, 503}, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["error"] == "unavailable"
            assert answer.json()["message"]["en"].startswith("The service is receiving too many")
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["Connection"] == "close"
            assert answer.headers["X-Correlation-Id"]

    clock.side_effect = None
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    again = requests.post(f"{url}/bookings", json=form("2026-11-24", "12:00"), timeout=10)
    assert again.status_code == 202, again.text
