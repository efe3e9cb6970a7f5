"""A slow neighbour costs seconds, not workers (issue 12 §6): with the booking service
paused (SIGSTOP), what depends on it waits out its own timeout, then answers 503 with a
bilingual "try again" instead of hanging, and works again once booking is back.

Behaviour only: the answer must come after the timeout was spent (it waited for its
neighbour) and at all (:data:`HANG`, far above the timeout, tells a hang from a busy
machine). How long after the timeout it comes is a speed, measured by `make bench`
(its ``recovery`` section, docs/BENCHMARKS.md)."""
import re
import time

import pytest
import requests

from shared.config import service_config
from tests.processes import paused

pytestmark = pytest.mark.e2e
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
WEB = "http://" + service_config("web")["WEB_SERVER_ADDRESS"]
RPC_TIMEOUT = float(service_config("kiosk_gateway")["RPC_TIMEOUT_SECONDS"])
PAGE_TIMEOUT = float(service_config("web")["BACKEND_TIMEOUT_SECONDS"])
ADMIN = {"Authorization": "Bearer admin-dev-token"}
HANG = 60  # seconds without an answer: the caller hangs on its paused neighbour


def _timed(send):
    """``(answer, seconds waited)`` of ``send(timeout)``; fails when nothing came within
    :data:`HANG` seconds."""
    started = time.monotonic()
    try:
        answer = send(HANG)
    except requests.Timeout:
        pytest.fail(f"no answer within {HANG} s: it hangs on its paused neighbour")
    return answer, time.monotonic() - started


def test_d5_a_kiosk_activation_gets_503_after_its_rpc_timeout_while_booking_is_paused():
    kiosk = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "baku-2"}, headers=ADMIN,
                          timeout=10).json()
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    with paused("booking"):
        answer, waited = _timed(lambda timeout: requests.post(
            f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"}, headers=auth,
            timeout=timeout))
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == "unavailable" and body["reasons"][0]["az"] and \
        body["reasons"][0]["en"]
    assert answer.headers["Retry-After"]
    assert waited >= RPC_TIMEOUT  # it asked booking and waited for it, then gave up
    # booking is back: the same kiosk gets its answer again
    again = requests.post(f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"},
                          headers=auth, timeout=30)
    assert again.status_code == 404 and again.json()["error"] == "invalid_code"


def test_the_citizen_pages_show_a_bilingual_try_again_page_after_their_timeout():
    session = requests.Session()
    form = session.get(f"{WEB}/cancel", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    with paused("booking"):
        page, waited = _timed(lambda timeout: session.post(
            f"{WEB}/cancel", data={"csrf_token": token, "order_code": "ABCD-EFGH"},
            timeout=timeout))
    assert page.status_code == 503
    assert "temporarily unavailable" in page.text and "müvəqqəti əlçatan deyil" in page.text
    assert waited >= PAGE_TIMEOUT  # the pages asked booking and waited for it
