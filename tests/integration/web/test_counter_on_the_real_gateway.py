"""The counter page on the real kiosk gateway (in-process, with booking, on a clock at
which the centre is open): a double press — the same form sent twice — is one call
(the page's Idempotency-Key), and a revoked counter is forgotten by the browser."""
import re

import pytest
import requests

from tests import days
from tests.integration.kiosk.conftest import ADMIN, start_stack  # noqa: F401 (a fixture)

from .test_counter_and_board_pages import csrf_of

pytestmark = pytest.mark.integration


def test_the_same_form_sent_twice_calls_one_ticket_and_a_revoked_counter_is_forgotten(
        start_stack, start_pages):
    stack = start_stack()
    stack.clock.now = days.open_moment(days.clock_start(), "quba")
    pages = start_pages(gateway_url=stack.gateway_url, booking_url=stack.booking_url)
    kiosk = stack.kiosk("quba")["token"]
    numbers = [requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                             headers={"Authorization": f"Bearer {kiosk}"}, timeout=10
                             ).json()["number"] for _ in range(2)]
    registered = requests.post(f"{stack.gateway_url}/admin/counters", headers=ADMIN,
                               json={"centre": "quba", "name": "Masa 1"}, timeout=10).json()

    staff = requests.Session()
    page = staff.get(pages.url + "/counter", timeout=10)
    for path, form in (("/counter/token", {"token": registered["token"]}),
                       ("/counter/sign-in", {"services": ["passport"]})):
        answer = staff.post(pages.url + path, data=dict(form, csrf_token=csrf_of(page.text)),
                            timeout=10)
        assert answer.status_code == 200 and answer.url.endswith("/counter"), answer.text
        page = answer
    press = re.search(r'name="press" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf_of(page.text), "press": press}
    for _ in range(2):  # a double press, or the browser sending the form again
        answer = staff.post(pages.url + "/counter/call-next", data=form, timeout=10)
        assert answer.status_code == 200
        assert re.search(rf'id="current-number">{numbers[0]}<', answer.text)
    assert re.search(r'id="waiting-passport">1<', answer.text)  # the second still waits

    requests.post(f"{stack.gateway_url}/admin/counters/{registered['counter_id']}/revoke",
                  headers=ADMIN, timeout=10)
    forgotten = staff.get(pages.url + "/counter", timeout=10)
    assert forgotten.status_code == 401 and 'name="token"' in forgotten.text
    assert "asan_counter" not in staff.cookies
