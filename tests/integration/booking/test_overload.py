"""Overload is answered at once, in the documented shape (issue 15 §5).

The booking service runs in-process on the real database with room for two requests
at a time (``HTTP_MAX_PENDING: 2``) and a clock that keeps a worker busy (as a slow
neighbour would) until the test lets it go, so two requests occupy it for as long as
the test needs: the others sent meanwhile get 503 ``unavailable`` with ``Retry-After``
and ``Connection: close`` while those two are still held — they do not wait for a
worker — the probes are still answered, and once the two are let go they are booked
and the service books again. No real-time window: the two are held by an event, not
by a sleep a busy machine could outlast."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from shared.vocabulary.clock import BAKU

from .test_holds import booking, form  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
NEVER = 60  # seconds: an answer not come by then is not coming


def test_requests_beyond_the_bound_get_503_at_once_and_probes_still_answer(booking):
    container, clock, url = booking(HTTP_MAX_PENDING=2)
    inside, let_go = threading.Semaphore(0), threading.Event()

    def busy_clock():
        inside.release()
        let_go.wait()  # a worker busy on a slow neighbour
        return datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)

    clock.side_effect = busy_clock

    def book(at):
        return requests.post(f"{url}/bookings", json=form("2026-11-24", at), timeout=NEVER)

    with ThreadPoolExecutor(6) as pool:
        try:
            held = [pool.submit(book, at) for at in ("10:15", "10:30")]
            for _ in held:
                assert inside.acquire(timeout=NEVER), "the held requests never reached a worker"
            beyond = [pool.submit(book, at) for at in ("10:45", "11:00", "11:15", "11:30")]
            answers = [future.result(timeout=NEVER) for future in beyond]
            live = requests.get(f"{url}/live", timeout=NEVER)
        finally:
            let_go.set()
        booked = [future.result(timeout=NEVER) for future in held]
    assert live.status_code == 200
    assert [answer.status_code for answer in answers] == [503] * 4
    assert [answer.status_code for answer in booked] == [202, 202]
    for answer in answers:
        assert answer.json()["error"] == "unavailable"
        assert answer.json()["message"]["en"].startswith("The service is receiving too many")
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["Connection"] == "close"
        assert answer.headers["X-Correlation-Id"]

    clock.side_effect = None
    clock.return_value = datetime(2026, 11, 23, 10, 0, tzinfo=BAKU)
    again = requests.post(f"{url}/bookings", json=form("2026-11-24", "12:00"), timeout=10)
    assert again.status_code == 202, again.text
