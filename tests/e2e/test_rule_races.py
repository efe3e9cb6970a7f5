"""The counted rules under concurrency, on the running stack (``make run``: booking
with its caps on, its relay, notification and the mail sink): many requests at once,
from one client, each of which alone the rule would let through, must not together
put one client address past its day limit, one ID card past its one booking a day,
or a slot past its places (Q-1, F-5; a move as a new booking: issue 17 §5).

Each test is a client of its own (an address of the benchmarking range, forwarded as
the citizen pages forward it); the bookings are confirmed with the codes emailed to
the sink. What is counted afterwards is what the booking service says: the move page's
lookup of each order code (``POST /bookings/visit``)."""
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from shared.runtime.config import service_config
from tests.citizens import FRONTEND_TOKEN
from tests.days import bookable_days
from tests.mailbox import confirmation_code, messages_to, order_code

pytestmark = pytest.mark.e2e
BOOKING = "http://" + service_config("booking")["WEB_SERVER_ADDRESS"]
CENTRE, SERVICE = "baku-1", "passport"
DAY_LIMIT = int(service_config("booking")["MAX_DAY_PER_ADDRESS"])


def _address():
    return f"198.19.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def _as(address):
    return {"Authorization": f"Bearer {FRONTEND_TOKEN}", "X-Asan-Client-Address": address}


def _mail(to, template, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in messages_to(to)
                 if str(m.get("X-Template", "")).startswith(template + "/")]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no {template} email to {to}")


def _confirmed(address, day, at, id_card=None):
    """A booking confirmed from ``address``: its order code."""
    email = f"race-{uuid.uuid4().hex[:10]}@example.az"
    form = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": id_card or f"AZE{uuid.uuid4().int % 10 ** 8:08d}",
            "phone": f"+99455{uuid.uuid4().int % 10 ** 7:07d}", "email": email,
            "service": SERVICE, "centre": CENTRE, "date": day.isoformat(), "time": at}
    held = requests.post(f"{BOOKING}/bookings", json=form, headers=_as(address), timeout=30)
    assert held.status_code == 202, held.text
    code = confirmation_code(_mail(email, "booking_confirmation_code"))
    done = requests.post(f"{BOOKING}/bookings/{held.json()['booking_id']}/confirm",
                         json={"code": code}, headers=_as(address), timeout=30)
    assert done.status_code == 200, done.text
    return order_code(_mail(email, "booking_order_code"))


def _move(order_code_, day, at):
    # every move from an address of its own: the per-client rate limit is not the
    # rule tried here
    return requests.post(f"{BOOKING}/bookings/reschedule", headers=_as(_address()),
                         json={"order_code": order_code_, "date": day.isoformat(),
                               "time": at}, timeout=60)


def _day_of(order_code_):
    answer = requests.post(f"{BOOKING}/bookings/visit", json={"order_code": order_code_},
                           headers=_as(_address()), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["date"]


def _free(day, count):
    """``count`` times of the day with a free place each, as the slot list shows them
    (the running stack keeps what earlier runs booked)."""
    answer = requests.get(f"{BOOKING}/centres/{CENTRE}/services/{SERVICE}/slots",
                          params={"date": day.isoformat()}, timeout=30)
    assert answer.status_code == 200, answer.text
    free = [slot["time"] for slot in answer.json() if slot["free"] > 0]
    assert len(free) >= count, f"{day}: {len(free)} free times, {count} needed"
    return free[:count]


def _at_once(calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.fixture
def days():
    found = bookable_days(centre=CENTRE, service=SERVICE)
    assert len(found) >= 4
    return found[-4:]  # late days of the horizon: few other tests book there


def test_many_moves_at_once_into_one_day_keep_the_address_within_its_day_limit(days):
    """F-5: the address has ``DAY_LIMIT - 4`` bookings on the target day and
    ``DAY_LIMIT`` on each of three others; all of those (18 with the default limit) are
    moved into the target day at once. At most four get through, whatever the
    interleaving; no 500. (Twenty bookings: the burst of the address's request limit.)"""
    assert DAY_LIMIT >= 4
    target, homes = days[0], days[1:]
    address = _address()
    times = _free(target, 4 * DAY_LIMIT - 4)
    for at in times[:DAY_LIMIT - 4]:
        _confirmed(address, target, at)
    codes = [_confirmed(address, day, at)
             for day in homes for at in _free(day, DAY_LIMIT)]
    answers = _at_once([lambda c=c, at=at: _move(c, target, at)
                        for c, at in zip(codes, times[DAY_LIMIT - 4:])])
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    moved = [c for c in codes if _day_of(c) == target.isoformat()]
    assert len(moved) == sum(a.status_code == 200 for a in answers)
    assert 1 <= len(moved) <= 4, [a.json().get("error") for a in answers]


def test_one_id_card_moved_into_one_day_from_many_days_at_once_lands_once(days):
    """Q-1: one ID card has a booking on each of two days; both are moved at once
    into a third day, into different slots. One gets through."""
    card = f"AZE{uuid.uuid4().int % 10 ** 8:08d}"
    target = days[2]
    codes = [_confirmed(_address(), day, _free(day, 1)[0], id_card=card)
             for day in days[:2]]
    times = _free(target, 2)
    answers = _at_once([lambda c=c, n=n: _move(c, target, times[n])
                        for n, c in enumerate(codes)])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]


def test_a_request_and_a_move_racing_into_the_last_place_under_the_day_limit(days):
    """F-5: the address has ``DAY_LIMIT - 1`` bookings on the target day; a new
    booking there and a move of its booking from another day there are sent at once.
    One of them gets the last place under the limit."""
    target, home = days[1], days[2]
    address = _address()
    times = _free(target, DAY_LIMIT + 1)
    for n in range(DAY_LIMIT - 1):
        _confirmed(address, target, times[n])
    code = _confirmed(address, home, _free(home, 1)[0])
    form = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}",
            "phone": f"+99455{uuid.uuid4().int % 10 ** 7:07d}",
            "email": f"race-{uuid.uuid4().hex[:10]}@example.az", "service": SERVICE,
            "centre": CENTRE, "date": target.isoformat(), "time": times[-2]}
    request, move = _at_once([
        lambda: requests.post(f"{BOOKING}/bookings", json=form, headers=_as(address),
                              timeout=60),
        lambda: _move(code, target, times[-1])])
    assert sorted((request.status_code, move.status_code)) in ([200, 409], [202, 409]), \
        (request.text, move.text)
