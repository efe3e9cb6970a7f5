"""The kiosk gateway of the running platform reaches booking over RPC (D-5)."""
import pytest
import requests

from shared.config import service_config

pytestmark = pytest.mark.e2e
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
ADMIN = {"Authorization": "Bearer admin-dev-token"}


def test_a_registered_kiosk_asks_booking_and_gets_the_uniform_refusal_for_a_bad_code():
    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "quba"}, headers=ADMIN,
                          timeout=10).json()
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    assert requests.post(f"{GATEWAY}/kiosk/heartbeat", headers=auth, timeout=10).json() == \
        {"kiosk_id": kiosk["kiosk_id"], "centre": "quba", "status": "ok"}
    answer = requests.post(f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"},
                           headers=auth, timeout=30)
    assert answer.status_code == 404 and answer.json()["error"] == "invalid_code"
    walk_in = requests.post(f"{GATEWAY}/kiosk/walk-ins", json={"service": "certificates"},
                            headers=auth, timeout=30)
    # On the real clock: a ticket while Quba's centre is open, its hours when it is not
    # (the hours themselves are tested on a test clock in tests/unit/test_baku_days.py).
    if walk_in.status_code == 200:
        assert walk_in.json()["number"].startswith("HW-")
    else:
        assert walk_in.status_code == 409 and walk_in.json()["error"] == "centre_closed"
    requests.post(f"{GATEWAY}/admin/kiosks/{kiosk['kiosk_id']}/revoke", headers=ADMIN, timeout=10)
