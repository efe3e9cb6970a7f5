"""The pages running in-process next to a fake kiosk gateway (tests/fake_gateway.py):
what the counter page and the board do with every answer the gateway can give."""
import pytest

from services.web.service import WebService
from shared.config import service_config
from tests import fake_gateway
from tests.conftest import unused_port


class Pages:
    def __init__(self, url, gateway_url):
        self.url, self.gateway_url = url, gateway_url


@pytest.fixture
def start_pages(container_factory, rabbit_config):
    """Starts the pages; they call ``gateway_url`` and ``booking_url`` (e.g. an
    in-process stack, or a closed port), and the fake gateway for any not given (it
    serves booking's reference routes too)."""
    def start(gateway_url=None, booking_url=None):
        fake_url = None
        if not (gateway_url and booking_url):
            fake_gateway.STATE = fake_gateway.State()
            fake_port = unused_port()
            fake = container_factory(fake_gateway.FakeGateway, dict(
                rabbit_config, WEB_SERVER_ADDRESS=f"127.0.0.1:{fake_port}"))
            fake.start()
            fake_url = f"http://127.0.0.1:{fake_port}"
        web_port = unused_port()
        config = dict(service_config("web"), **rabbit_config)
        config.update(WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
                      BOOKING_URL=booking_url or fake_url, REGISTRY_URL=booking_url or fake_url,
                      COMPLAINTS_URL=booking_url or fake_url,
                      KIOSK_GATEWAY_URL=gateway_url or fake_url, BACKEND_TIMEOUT_SECONDS=5,
                      WEB_CSRF_SECRET="test-csrf-secret")
        web = container_factory(WebService, config)
        web.start()
        return Pages(f"http://127.0.0.1:{web_port}", gateway_url or fake_url)
    return start


@pytest.fixture
def pages(start_pages):
    return start_pages()
