"""The pages running in-process, calling the real services they are given: booking and
the kiosk gateway of an in-process stack on a clock the test sets
(tests/integration/kiosk/conftest.py), or an address where nobody answers."""
from datetime import timedelta

import pytest
import requests

from services.web.service import WebService
from shared.runtime.config import service_config
from tests import days
from tests.clock import Clock
from tests.conftest import unused_port
from tests.integration.kiosk.conftest import ADMIN, start_stack  # noqa: F401 (a fixture)

CENTRE = "quba"


class Pages:
    def __init__(self, url, gateway_url):
        self.url, self.gateway_url = url, gateway_url


@pytest.fixture
def start_pages(container_factory, rabbit_config):
    """Starts the pages calling ``gateway_url`` and ``booking_url`` (a stack's, or a
    closed port); the registry and complaints, which these tests do not use, at an
    address where nobody answers."""
    def start(gateway_url, booking_url):
        nobody = f"http://127.0.0.1:{unused_port()}"
        web_port = unused_port()
        config = dict(service_config("web"), **rabbit_config)
        config.update(WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}", BOOKING_URL=booking_url,
                      REGISTRY_URL=nobody, COMPLAINTS_URL=nobody,
                      KIOSK_GATEWAY_URL=gateway_url, BACKEND_TIMEOUT_SECONDS=5,
                      WEB_CSRF_SECRET="test-csrf-secret")
        web = container_factory(WebService, config)
        web.start()
        return Pages(f"http://127.0.0.1:{web_port}", gateway_url)
    return start


class TickingClock(Clock):
    """The stack's clock, a second later at each reading: acts made at one frozen
    instant would tie (the board shows the newest call first, the queue calls by
    arrival)."""

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


class OpenCentre:
    """The kiosk gateway and booking behind the pages, while the centre is open, in
    the words of the tests: counters registered by the administrators, walk-in tickets
    printed at the centre's kiosk, and counter acts sent to the gateway's HTTP API (as
    another counter would)."""

    def __init__(self, stack, pages):
        self.stack, self.pages, self.gateway = stack, pages, stack.gateway_url
        self.kiosk = stack.kiosk(CENTRE)["token"]

    def register(self, name):
        """A new counter of the centre: ``{counter_id, token, …}`` (the token is shown
        once, to the administrators)."""
        answer = requests.post(f"{self.gateway}/admin/counters", headers=ADMIN, timeout=10,
                               json={"centre": CENTRE, "name": name})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def counter(self, name):
        """A new counter's token."""
        return self.register(name)["token"]

    def revoke(self, counter_id):
        answer = requests.post(f"{self.gateway}/admin/counters/{counter_id}/revoke",
                               headers=ADMIN, timeout=10)
        assert answer.status_code == 200, answer.text

    def issue(self, service="passport"):
        """A walk-in ticket of ``service`` printed at the centre's kiosk; its number."""
        answer = requests.post(f"{self.gateway}/kiosk/walk-ins", json={"service": service},
                               headers={"Authorization": f"Bearer {self.kiosk}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["number"]

    def api(self, token, action, body=None):
        """``POST /counter/<action>`` with ``token``; the CounterView it answers."""
        answer = requests.post(f"{self.gateway}/counter/{action}", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def view(self, token):
        answer = requests.get(f"{self.gateway}/counter", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def open_centre(start_stack, start_pages):
    """Booking and the kiosk gateway in-process on the real PostgreSQL and RabbitMQ, on
    a moment the centre is open (tests.days, from the run's clock) on a ticking clock, and the
    pages calling them."""
    stack = start_stack()
    stack.clock.__class__ = TickingClock
    stack.clock.now = days.open_moment(days.clock_start(), CENTRE)
    return OpenCentre(stack, start_pages(gateway_url=stack.gateway_url,
                                         booking_url=stack.booking_url))
