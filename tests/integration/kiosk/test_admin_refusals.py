"""The kiosk gateway refuses, by name, what cannot be done (issue 12 §9): a revoked
kiosk cannot get a new credential, and a walk-in ticket is only for a service the
centre offers."""
import pytest
import requests

from .conftest import ADMIN

pytestmark = pytest.mark.integration


def test_a_revoked_kiosk_gets_no_new_credential_and_unknown_kiosks_are_named(stack):
    kiosk = stack.kiosk("baku-1")
    admin = f"{stack.gateway_url}/admin/kiosks"
    assert requests.post(f"{admin}/{kiosk['kiosk_id']}/revoke", headers=ADMIN,
                         timeout=10).status_code == 200
    again = requests.post(f"{admin}/{kiosk['kiosk_id']}/rotate", headers=ADMIN, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "revoked"
    unknown = requests.post(f"{admin}/baku-1-nosuch/revoke", headers=ADMIN, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_kiosk"


def test_a_walk_in_only_for_a_service_the_centre_offers(stack):
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "11:00")  # a Tuesday, open
    answer = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "teleport"},
                           headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"] == "not_offered"


def test_a_burst_of_wrong_codes_sent_at_once_is_slowed_down_like_one_after_another(start_stack):
    """Twelve wrong codes in parallel got twelve 404s before (the block was read before
    any failure was committed): now the kiosk's activations take their turns."""
    from concurrent.futures import ThreadPoolExecutor

    stack = start_stack(gateway_config={"FREE_FAILURES": 3, "SLOW_DOWN_SECONDS": 60})
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "10:05")
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda n: stack.activate(kiosk["token"], f"WRNG-ZZZ{n % 8 + 2}"),
                                range(12)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [404] * 3 + [429] * 9, statuses


def test_a_walk_in_press_resent_with_its_key_prints_one_ticket_two_presses_two(stack):
    """Two people pressing "passport" at one kiosk within a minute are two tickets; the
    same press resent after a lost answer (its Idempotency-Key) is the same ticket."""
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "11:00")

    def press(key=None):
        headers = {"Authorization": f"Bearer {kiosk['token']}"}
        if key:
            headers["Idempotency-Key"] = key
        return requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                             headers=headers, timeout=10).json()["number"]

    first, resent = press("press-1"), press("press-1")
    assert first == resent == "CW-001"
    assert [press("press-2"), press(), press()] == ["CW-002", "CW-003", "CW-004"]
