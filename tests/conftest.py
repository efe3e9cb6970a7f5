"""Fixtures shared by every test ring.

Integration and end-to-end tests talk to the real PostgreSQL and RabbitMQ started by
``make test`` (see deploy/bin/test). Each test that writes gets its own fresh
database and, through nameko's ``rabbit_config`` fixture, its own RabbitMQ vhost,
so tests never see each other's data or messages.
"""
import os
import uuid
from pathlib import Path

import psycopg
import pytest

from shared.runtime.db import apply_migrations

# Tests that disturb the broker, the database or the services leave them as they found
# them, checked at their end (issue 22 §1).
pytest_plugins = ["tests.platform_state"]

PG_ADMIN_URL = os.environ.get(
    "ASAN_PG_ADMIN_URL", "postgresql://asan:asan@127.0.0.1:27432/postgres")


def _database_url(name):
    base, _ = PG_ADMIN_URL.rsplit("/", 1)
    return f"{base}/{name}"


@pytest.fixture
def make_database():
    """Creates new, migrated databases (platform tables, plus a service's migrations
    if named); all dropped after the test."""
    names = []

    def make(service_migrations=None):
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        url = _database_url(name)
        apply_migrations(url, service_migrations)
        return url

    yield make
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database(make_database):
    """A new, migrated database (platform tables); dropped after the test."""
    return make_database()


@pytest.fixture
def amqp_uri_for_vhost(rabbit_config):
    """The AMQP URI of this test's own vhost (nameko's rabbit_config made it)."""
    return rabbit_config["AMQP_URI"]


# Keys that belong to one process (its name, account, address, database, keys,
# workers): a test-only service is given its own, never another service's.
_OWN_KEYS = ("SERVICE_NAME", "AMQP_URI", "WEB_SERVER_ADDRESS", "DATABASE_URL",
             "RELAY_METRICS_PORT", "EVENT_SIGNING_KEYS", "max_workers")
# Platform keys that only some services' config.yaml declare, and the service giving them.
_DECLARED_BY = {"RPC_TIMEOUT_SECONDS": "kiosk_gateway",
                "EVENT_REDELIVERY_DELAYS_MS": "notification"}


def platform_config(base=(), **given):
    """The config of a test-only service (a dict): the platform keys the shared runtime
    reads (``shared.runtime.settings.ServiceSettings``' fields, from booking's ``config.yaml``;
    the RPC timeout and the redelivery delays from the config that declares them) with
    ``base`` (e.g. nameko's ``rabbit_config``) and ``given`` over them, so that a test
    runs with the shipped values instead of literals of its own."""
    from shared.runtime.config import service_config
    from shared.runtime.settings import ServiceSettings

    booking = service_config("booking")
    config = {key: booking[key] for key in ServiceSettings.keys() if key not in _OWN_KEYS}
    config |= {key: service_config(service)[key] for key, service in _DECLARED_BY.items()}
    return config | dict(base) | given


def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port():
    return unused_port()


# --- the error-name contract (tests/contract.py, tests/test_error_contract.py) -------
def pytest_configure(config):
    from tests import contract

    contract.install()


@pytest.fixture
def container_factory(container_factory):
    """nameko's ``container_factory``; a real service (``services/<name>/service.py``)
    made through it is known to the error-name contract at its address until the test
    ends, so that its answers count (tests/contract.py)."""
    from tests import contract

    addresses = []

    def make(service_cls, config):
        container = container_factory(service_cls, config)
        address = contract.serving(service_cls, config)
        if address is not None:
            contract.RECORDER.serving(service_cls.name, address)
            addresses.append(address)
        return container

    yield make
    for address in addresses:
        contract.RECORDER.stopped(address)


def pytest_runtest_setup(item):
    from tests import chance
    from tests.citizens import CITIZEN
    from tests.contract import RECORDER

    RECORDER.current_test = item.nodeid
    CITIZEN.become(item.nodeid)
    chance.begin(item.nodeid)


# --- random choices are seeded, and the seed is shown (tests/chance.py) -------------
def pytest_report_header(config):
    from tests import chance

    return chance.replay_hint()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    from tests import chance

    report = (yield).get_result()
    if report.failed:
        report.sections.append(("random choices", chance.replay_hint()))


def pytest_collection_modifyitems(session, config, items):
    """The contract tests read what every other test saw: they run last. They also
    learn whether this run collected every test file (a whole run)."""
    from tests import contract

    last = [item for item in items if item.module.__name__.endswith("test_error_contract")]
    items[:] = [item for item in items if item not in last] + last
    collected = {str(item.path) for item in items}
    on_disk = {str(path) for path in Path(__file__).parent.rglob("test_*.py")}
    contract.WHOLE_RUN = on_disk <= collected
