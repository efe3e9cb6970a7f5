"""A kiosk's activations take their turns (its wrong codes are counted one after
another), and each waits on booking's answer; while booking is slow, every turn
waiting holds one of the gateway's database connections. One kiosk pressed many
times at once (a citizen pressing again and again while booking is slow, or a
stolen kiosk credential) must not take every connection: the gateway's other
kiosks go on (D-5: a slow neighbour costs seconds, not the service).

On the running stack (``make run``): booking paused (SIGSTOP) while one kiosk sends
more activations at once than the gateway has connections (``DB_POOL_SIZE``); another
kiosk's heartbeat meanwhile is answered, not refused for want of a connection."""
import threading
import time
import uuid

import pytest
import requests

from shared.runtime.config import service_config
from tests.processes import paused

pytestmark = pytest.mark.e2e
GATEWAY = "http://" + service_config("kiosk_gateway")["WEB_SERVER_ADDRESS"]
POOL = int(service_config("kiosk_gateway")["DB_POOL_SIZE"])
ADMIN = {"Authorization": "Bearer admin-dev-token"}


def _kiosk():
    answer = requests.post(f"{GATEWAY}/admin/kiosks", json={"centre": "baku-2"}, timeout=10,
                           headers=ADMIN | {"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_d5_one_kiosk_pressed_many_times_while_booking_is_slow_leaves_the_others_served():
    pressed, other = _kiosk(), _kiosk()
    answers = []
    presses = [threading.Thread(target=lambda: answers.append(requests.post(
        f"{GATEWAY}/kiosk/activations", json={"order_code": "ABCD-EFGH"}, headers=pressed,
        timeout=300).status_code)) for _ in range(POOL + 2)]
    with paused("booking"):
        for press in presses:
            press.start()
        time.sleep(1)  # every press has reached the gateway
        heartbeat = requests.post(f"{GATEWAY}/kiosk/heartbeat", headers=other, timeout=300)
    for press in presses:
        press.join()
    assert heartbeat.status_code == 200, heartbeat.text
    assert 500 not in answers, answers
