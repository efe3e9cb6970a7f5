"""The kiosk gateway of the running platform reaches booking over RPC (D-5); a revoked
kiosk is refused (D-5)."""
import uuid

import psycopg
import pytest
import requests

from services.booking import read_model as booking_read_model
from services.booking.reference import ReferenceData
from shared.vocabulary.clock import baku_now, baku_today, utcnow
from shared.runtime.config import service_config
from shared.vocabulary.dates import day_text

pytestmark = pytest.mark.e2e
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
ADMIN = {"Authorization": "Bearer admin-dev-token"}
REF = ReferenceData.load(extra_closed_days=service_config("booking").get("EXTRA_CLOSED_DAYS")
                         or ())


def hours_of_walk_ins(centre, service, now):
    """What the product's calendar says of a walk-in at ``centre`` at ``now`` (the
    running platform's real clock): ``("open", hours, day)``, ``("closed_now", hours,
    day)`` or ``("closed_today", None, day)``, ``day`` the Baku day — booking's
    reference data (its weekly hours, public holidays and the platform's closed days)
    and the closures staff decided (booking's read model), the same code that makes the
    gateway's catalogue."""
    day = baku_today(now)
    with psycopg.connect(service_config("booking")["DATABASE_URL"]) as conn:
        closed_by_staff = booking_read_model.closed_on(conn, centre, service, day)
    hours = None if closed_by_staff else REF.hours(REF.centres[centre], day)
    if hours is None:
        return "closed_today", None, day
    hours = tuple(moment.strftime("%H:%M") for moment in hours)
    moment = baku_now(now).strftime("%H:%M")
    return ("open" if hours[0] <= moment < hours[1] else "closed_now"), hours, day


def walk_in_with_its_expected_answer(auth, centre, service):
    """A walk-in and what the calendar said of it, asked before and after the request:
    the same both times (a request that straddled the opening or closing minute is
    made again)."""
    for _ in range(3):
        before = hours_of_walk_ins(centre, service, utcnow())
        answer = requests.post(f"{GATEWAY}/kiosk/walk-ins", json={"service": service},
                               headers=auth, timeout=30)
        if hours_of_walk_ins(centre, service, utcnow()) == before:
            return answer, before
    raise AssertionError("three walk-ins each straddled an opening or closing minute")


def test_d5_a_kiosk_asks_booking_gets_the_answer_of_the_calendar_and_is_refused_once_revoked():
    # a kiosk of its own, not the answer to a registration of the minute before
    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "quba"}, timeout=10,
                          headers=ADMIN | {"Idempotency-Key": str(uuid.uuid4())}).json()
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    assert requests.post(f"{GATEWAY}/kiosk/heartbeat", headers=auth, timeout=10).json() == \
        {"kiosk_id": kiosk["kiosk_id"], "centre": "quba", "status": "ok"}
    answer = requests.post(f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"},
                           headers=auth, timeout=30)
    assert answer.status_code == 404 and answer.json()["error"] == "invalid_code"

    # Whatever the hour of the run, the one answer the calendar allows at that moment
    # (the hours themselves are tested on a test clock in tests/integration/kiosk).
    walk_in, (state, hours, day) = walk_in_with_its_expected_answer(auth, "quba",
                                                                    "certificates")
    if state == "open":
        assert walk_in.status_code == 200, walk_in.text
        ticket = walk_in.json()
        assert (ticket["series"], ticket["service"]["code"], ticket["centre"]["code"]) == \
            ("walk_in", "certificates", "quba")
        assert ticket["number"].startswith("HW-") and ticket["booked_time"] is None
    else:
        assert walk_in.status_code == 409, walk_in.text
        refusal = walk_in.json()
        assert refusal["error"] == "centre_closed"
        assert refusal["message"]["en"] == (  # the day named as written here
            f"The centre is closed now; today ({day_text(day, 'en')}) it is open"
            f" {hours[0]}–{hours[1]}." if state == "closed_now"
            else f"The centre is closed today ({day_text(day, 'en')}).")

    revoked = requests.post(f"{GATEWAY}/admin/kiosks/{kiosk['kiosk_id']}/revoke",
                            headers=ADMIN, timeout=10)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"kiosk_id": kiosk["kiosk_id"], "status": "revoked"}
    for path, body in (("/kiosk/heartbeat", None), ("/kiosk/walk-ins", {"service": "passport"}),
                       ("/kiosk/activations", {"order_code": "ABCD-EFGH"})):
        refused = requests.post(f"{GATEWAY}{path}", json=body, headers=auth, timeout=30)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["error"] == "unauthorized"
        assert refused.json()["message"]["en"] == "Unknown or revoked kiosk."
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    listed = requests.get(f"{GATEWAY}/admin/kiosks", headers=ADMIN, timeout=10).json()
    assert [k["status"] for k in listed if k["kiosk_id"] == kiosk["kiosk_id"]] == ["revoked"]
