"""Helpers for booking tests against the running platform (make test started it)."""
import random
import time
import uuid
from datetime import date

import pytest
import requests

from shared.runtime.config import service_config
from tests import chance, days
from tests.mailbox import confirmation_code, order_code, wait_for_mail

REF = days.REFERENCE
BOOKING = "http://" + service_config("booking")["WEB_SERVER_ADDRESS"]


def new_id_card():
    return f"AZE{random.randrange(10 ** 8):08d}"


def new_email():
    return f"citizen-{uuid.uuid4().hex[:12]}@example.az"


def free_slot(service="passport", need=None):
    """A slot nobody has touched yet (tests share the running platform's database),
    on a bookable day (tests.days) at a centre offering ``service``; the centre, day
    and time are the test's seeded choices (tests.chance). ``(centre, date, "HH:MM")``."""
    capacity = REF.services[service].counters
    need = need or capacity
    rng = chance.rng()
    candidates = [(centre.code, day) for centre in REF.centres.values()
                  if service in centre.services
                  for day in days.bookable_days(centre=centre.code, service=service)]
    rng.shuffle(candidates)
    for centre, day in candidates[:200]:
        response = requests.get(f"{BOOKING}/centres/{centre}/services/{service}/slots",
                                params={"date": day.isoformat()}, timeout=10)
        if response.status_code == 503:  # a database restart under load: try again
            time.sleep(0.2)
            continue
        if response.status_code != 200:  # a day staff closed (issue 17 §6)
            continue
        free = [s for s in response.json() if s["free"] >= need and s["free"] == capacity]
        if free:
            return centre, day, rng.choice(free)["time"]
    raise AssertionError(f"no free slot of {service} found ({chance.replay_hint()})")


def new_phone():
    """A mobile number of its own: each form is another citizen (the platform caps
    unconfirmed holds per phone)."""
    return f"+994 {random.choice(('50', '51', '55', '70', '77', '99'))} " \
           f"{random.randrange(200, 999)} {random.randrange(10, 99)} {random.randrange(10, 99)}"


def form(**overrides):
    centre, day, at = free_slot()
    data = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": new_id_card(), "phone": new_phone(), "email": new_email(),
            "service": "passport", "centre": centre, "date": day.isoformat(), "time": at}
    data.update(overrides)
    return data


@pytest.fixture
def booking_form():
    return form()


def post(path, payload, **kwargs):
    return requests.post(f"{BOOKING}{path}", json=payload, timeout=30, **kwargs)


__all__ = ["BOOKING", "form", "free_slot", "new_email", "new_id_card", "post", "date"]


def book_confirm_and_cancel():
    """A new citizen's booking through its whole public life: booked, confirmed with the
    emailed code, cancelled with the emailed order code. Returns (its form, its id)."""
    data = form()
    booking_id = post("/bookings", data).json()["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    assert post(f"/bookings/{booking_id}/confirm", {"code": code}).status_code == 200
    order = order_code(wait_for_mail(data["email"], "booking_order_code"))
    assert post("/bookings/cancel", {"order_code": order}).status_code == 200
    return data, booking_id
