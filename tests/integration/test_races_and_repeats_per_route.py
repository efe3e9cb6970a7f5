"""The refusals every command route shares, from each documented one (issue 12 §2,
issue 22 §3: the error-name contract is per operation).

The real services run in-process on a database of their own each, RabbitMQ, and a
clock the test sets (booking and the kiosk gateway together: tickets need booking).
For every command route a request that would succeed is prepared, then:

* a race lost on every try: a trigger plays the concurrent writer of every event
  the command appends (serialization failure, as tests/integration/booking/
  test_refusals_by_name.py does) — the command is run ``COMMAND_ATTEMPTS`` times,
  then refused 409 ``busy``, and nothing is written;
* a repeat of an ``@once`` request while the first is still being handled (every
  table of the service but the request records is locked, so the first waits after
  its claim): 409 ``in_progress`` once ``IDEMPOTENCY_WAIT_SECONDS`` have passed.

Each test also holds its list of routes to the documents: a new command route needs
its request here.
"""
import hashlib
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import eventlet
import psycopg
import pytest
import requests
from nameko.testing.services import replace_dependencies

from services.complaints.service import ComplaintsService
from services.monitoring.service import MonitoringService
from services.registry.service import RegistryService
from shared.vocabulary.clock import BAKU
from shared.runtime.config import service_config
from tests import contract
from tests.citizens import as_citizen
from tests.clock import Clock
from tests.conftest import unused_port
from tests.integration.kiosk.conftest import ADMIN, start_stack  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2] / "services"
WAIT = 0.3  # IDEMPOTENCY_WAIT_SECONDS here: how long a repeat waits for the first answer
NEVER_SECONDS = 30  # a deadline that only catches "never"
DAY_BEFORE, DAY = "2026-11-23", "2026-11-24"  # a Monday and a Tuesday, both working days
CLOSURE_TOKEN = "closure-test-token"


def documented(service, pair_error):
    """``{"METHOD route"}`` of the service's operations whose document lists 409
    ``pair_error``."""
    return {f"{pair.method} {pair.route}" for pair in contract.DOCUMENTED
            if pair.service == service and pair.status == 409 and pair.error == pair_error}


class Service:
    """One service in-process: its URL and its database."""

    def __init__(self, name, url, database):
        self.name, self.url, self.database = name, url, database

    @contextmanager
    def losing_every_race(self):
        """Every event the service appends meets a concurrent writer, for the block."""
        with psycopg.connect(self.database, autocommit=True) as conn:
            conn.execute("""
                CREATE FUNCTION lose_the_race() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'a concurrent writer' USING ERRCODE = '40001'; END $$;
                CREATE TRIGGER lose_the_race BEFORE INSERT ON events
                    FOR EACH ROW EXECUTE FUNCTION lose_the_race();""")
            try:
                yield
            finally:
                conn.execute("DROP TRIGGER lose_the_race ON events;"
                             " DROP FUNCTION lose_the_race();")

    def events(self):
        with psycopg.connect(self.database) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    def busy(self, send):
        """What ``send()`` is answered while every race is lost; nothing is written."""
        before = self.events()
        with self.losing_every_race():
            answer = send()
        assert self.events() == before
        return answer.status_code, answer.json().get("error")

    def repeated_while_handled(self, send):
        """What a repeat of ``send()`` is answered while the first one waits on the
        service's tables (locked after its claim); then the first goes on."""
        with psycopg.connect(self.database) as lock, \
                psycopg.connect(self.database, autocommit=True) as look:
            tables = [row[0] for row in lock.execute(
                "SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'idempotent_requests'")]
            lock.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            first = eventlet.spawn(send)
            deadline = time.monotonic() + NEVER_SECONDS
            while not look.execute("SELECT 1 FROM idempotent_requests WHERE status IS NULL"
                                   ).fetchone():  # the first has claimed the request
                assert time.monotonic() < deadline, "the first request was never claimed"
                time.sleep(0.02)
            repeat = send()
            lock.rollback()
        assert first.wait().status_code < 500
        return repeat.status_code, repeat.json().get("error")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def post(url, body=None, headers=None):
    """A request to send later (and again): ``send()`` POSTs ``body`` to ``url``."""
    return lambda: requests.post(url, json=body, headers=headers, timeout=NEVER_SECONDS)


def once(send_with_key):
    """A request that is one with its repeat (the same Idempotency-Key)."""
    key = uuid.uuid4().hex
    return lambda: send_with_key({"Idempotency-Key": key})


# --- booking and the kiosk gateway ---------------------------------------------------

class Centre:
    """Booking and the kiosk gateway (tests/integration/kiosk/conftest.py) with what a
    command needs to succeed: bookings, kiosks, counters, tickets."""

    def __init__(self, stack):
        self.stack, self.gateway, self.booking = stack, stack.gateway_url, stack.booking_url
        self.booking_service = Service("booking", stack.booking_url, stack.booking_db)
        self.gateway_service = Service("kiosk_gateway", stack.gateway_url, stack.gateway_db)

    def form(self, at, id_card=None, email=None):
        return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
                "id_card": id_card or f"AZE{uuid.uuid4().int % 10 ** 8:08d}",
                "phone": "+994501234567",
                "email": email or f"c-{uuid.uuid4().hex[:8]}@example.az",
                "service": "passport", "centre": "quba", "date": DAY, "time": at}

    def requested(self, at):
        """A booking requested the day before (not confirmed): (id, its code)."""
        self.stack.clock.now = datetime.fromisoformat(f"{DAY_BEFORE}T10:00").replace(
            tzinfo=BAKU)
        answer = requests.post(f"{self.booking}/bookings", json=self.form(at), timeout=30,
                               headers=as_citizen())
        assert answer.status_code == 202, answer.text
        booking_id = answer.json()["booking_id"]
        return booking_id, self.stack._private_code(booking_id, "booking_confirmation_code",
                                                    "code")

    def confirmed(self, at, id_card=None, email=None):
        """The order code of a booking of ``at`` tomorrow, confirmed today."""
        self.stack.clock.now = datetime.fromisoformat(f"{DAY_BEFORE}T10:00").replace(
            tzinfo=BAKU)
        answer = requests.post(f"{self.booking}/bookings", timeout=30, headers=as_citizen(),
                               json=self.form(at, id_card, email))
        assert answer.status_code == 202, answer.text
        booking_id = answer.json()["booking_id"]
        code = self.stack._private_code(booking_id, "booking_confirmation_code", "code")
        assert requests.post(f"{self.booking}/bookings/{booking_id}/confirm", timeout=30,
                             json={"code": code}).status_code == 200
        return self.stack._private_code(booking_id, "booking_order_code", "order_code")

    def kiosk(self):
        return self.stack.kiosk("quba")

    def counter(self, *services):
        """A registered counter (signed in for ``services`` if any): its credential."""
        answer = requests.post(f"{self.gateway}/admin/counters", headers=ADMIN, timeout=30,
                               json={"centre": "quba", "name": f"Masa {uuid.uuid4().hex[:6]}"})
        assert answer.status_code == 201, answer.text
        counter = answer.json()
        if services:
            self.act(counter, "sign-in", {"services": list(services)})
        return counter

    def act(self, counter, action, body=None):
        answer = requests.post(f"{self.gateway}/counter/{action}", json=body, timeout=30,
                               headers=auth(counter["token"]))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def walk_in(self, kiosk, service="passport"):
        answer = requests.post(f"{self.gateway}/kiosk/walk-ins", json={"service": service},
                               headers=auth(kiosk["token"]), timeout=30)
        assert answer.status_code == 200, answer.text

    def at_the_counter(self, recalls=0):
        """A counter with a called walk-in ticket, recalled ``recalls`` times."""
        self.walk_in(self.kiosk())
        counter = self.counter("passport", "certificates")
        self.act(counter, "call-next")
        for _ in range(recalls):
            self.act(counter, "recall")
        return counter

    def open(self):
        self.stack.clock.set(DAY, "10:05")


def booking_requests(centre):
    """``{"METHOD route": send}`` of every booking command that would succeed."""
    booking = centre.booking
    pending_id, code = centre.requested("10:30")
    to_cancel, to_move = centre.confirmed("10:45"), centre.confirmed("11:00")
    lost = {"id_card": f"AZE{uuid.uuid4().int % 10 ** 8:08d}", "email": "lost@example.az",
            "date": DAY}
    centre.confirmed("11:15", lost["id_card"], lost["email"])
    return {
        "POST /bookings": post(f"{booking}/bookings", centre.form("11:30"), as_citizen()),
        "POST /bookings/{booking_id}/confirm": post(
            f"{booking}/bookings/{pending_id}/confirm", {"code": code}),
        "POST /bookings/cancel": post(f"{booking}/bookings/cancel", {"order_code": to_cancel}),
        "POST /bookings/reschedule": post(f"{booking}/bookings/reschedule", {
            "order_code": to_move, "date": DAY, "time": "11:45"}),
        "POST /bookings/order-code": post(f"{booking}/bookings/order-code", lost),
        "POST /admin/closures": post(f"{booking}/admin/closures", {
            "centre": "baku-2", "date": DAY, "reason": "technical_fault"},
            auth(CLOSURE_TOKEN)),
    }


def gateway_requests(centre):
    """``{"METHOD route": send}`` of every kiosk gateway command that would succeed, on
    the working day the centre is open."""
    gateway = centre.gateway
    booked = centre.confirmed("10:15")
    centre.open()
    kiosk, other_kiosk = centre.kiosk(), centre.kiosk()
    waiting = centre.counter("passport")
    centre.walk_in(kiosk)
    signed_out, idle = centre.counter(), centre.counter("passport")
    serving, recalled = centre.at_the_counter(), centre.at_the_counter(recalls=2)
    counter_id = centre.counter()["counter_id"]

    def act(counter, action, body=None):
        return once(lambda key: requests.post(
            f"{gateway}/counter/{action}", json=body, timeout=NEVER_SECONDS,
            headers=dict(auth(counter["token"]), **key)))

    return {
        "POST /kiosk/activations": post(f"{gateway}/kiosk/activations",
                                        {"order_code": booked}, auth(kiosk["token"])),
        "POST /kiosk/walk-ins": once(lambda key: requests.post(
            f"{gateway}/kiosk/walk-ins", json={"service": "passport"}, timeout=NEVER_SECONDS,
            headers=dict(auth(kiosk["token"]), **key))),
        "POST /admin/kiosks": once(lambda key: requests.post(
            f"{gateway}/admin/kiosks", json={"centre": "quba"}, timeout=NEVER_SECONDS,
            headers=dict(ADMIN, **key))),
        "POST /admin/kiosks/{kiosk_id}/rotate": post(
            f"{gateway}/admin/kiosks/{other_kiosk['kiosk_id']}/rotate", headers=ADMIN),
        "POST /admin/kiosks/{kiosk_id}/revoke": post(
            f"{gateway}/admin/kiosks/{other_kiosk['kiosk_id']}/revoke", headers=ADMIN),
        "POST /admin/counters": once(lambda key: requests.post(
            f"{gateway}/admin/counters", json={"centre": "quba", "name": "Masa 99"},
            timeout=NEVER_SECONDS, headers=dict(ADMIN, **key))),
        "POST /admin/counters/{counter_id}/rotate": post(
            f"{gateway}/admin/counters/{counter_id}/rotate", headers=ADMIN),
        "POST /admin/counters/{counter_id}/revoke": post(
            f"{gateway}/admin/counters/{counter_id}/revoke", headers=ADMIN),
        "POST /counter/sign-in": act(signed_out, "sign-in", {"services": ["passport"]}),
        "POST /counter/sign-out": act(idle, "sign-out"),
        "POST /counter/call-next": act(waiting, "call-next"),
        "POST /counter/recall": act(serving, "recall"),
        "POST /counter/transfer": act(serving, "transfer", {"service": "certificates"}),
        "POST /counter/served": act(serving, "served"),
        "POST /counter/no-show": act(recalled, "no-show"),
    }


@pytest.fixture
def centre(start_stack):
    waits = {"IDEMPOTENCY_WAIT_SECONDS": WAIT}
    return Centre(start_stack(
        booking_config=dict(waits, CLOSURE_TOKEN_SHA256=[
            hashlib.sha256(CLOSURE_TOKEN.encode()).hexdigest()]),
        gateway_config=waits))


# When each service's requests are sent: booking's the day before the visits,
# the gateway's on the day, while the centre is open.
SENT_AT = {"booking": (DAY_BEFORE, "10:00"), "kiosk_gateway": (DAY, "10:05")}
# Matched or not, raced or not, one answer (issue 17 §5: no oracle); nothing written.
NO_ORACLE = {"POST /bookings/order-code": (202, None)}


def expected_when_racing(service, sends):
    """409 ``busy`` from each command route but the one that never tells, and the
    documents list ``busy`` on exactly those."""
    expected = {route: NO_ORACLE.get(route, (409, "busy")) for route in sends}
    assert {route for route, answer in expected.items() if answer == (409, "busy")} == \
        documented(service, "busy")
    return expected


def test_every_booking_and_kiosk_command_answers_a_race_lost_every_time_409_busy(centre):
    prepared = {"booking": booking_requests(centre), "kiosk_gateway": gateway_requests(centre)}
    for service in (centre.booking_service, centre.gateway_service):
        sends = prepared[service.name]
        expected = expected_when_racing(service.name, sends)
        centre.stack.clock.set(*SENT_AT[service.name])
        answers = {route: service.busy(send) for route, send in sends.items()}
        assert answers == expected, service.name


def test_every_booking_and_kiosk_once_route_tells_a_repeat_it_is_in_progress(centre):
    prepared = {"booking": booking_requests(centre), "kiosk_gateway": gateway_requests(centre)}
    for service in (centre.booking_service, centre.gateway_service):
        centre.stack.clock.set(*SENT_AT[service.name])
        routes = documented(service.name, "in_progress")
        answers = {route: service.repeated_while_handled(prepared[service.name][route])
                   for route in sorted(routes)}
        assert answers == {route: (409, "in_progress") for route in routes}, service.name


# --- complaints, the registry, monitoring -------------------------------------------

COMPLAINT = {"service": "queue_booking", "text": "Kiosk bileti çap etmədi.", "name": "Leyla",
             "patronymic": "Əli qızı", "surname": "Məmmədova",
             "address": "Bakı, Nizami küç. 1", "email": "leyla@example.az"}
PAPER = dict(COMPLAINT, workplace="ADA", received_on="2026-11-20", scan_reference="scan-1")
CLASSES = {"complaints": ComplaintsService, "registry": RegistryService,
           "monitoring": MonitoringService}


@pytest.fixture
def start_service(container_factory, rabbit_config, make_database):
    """``start(name)``: the service in-process with its own configuration (its
    development tokens), a database of its own and the test clock of a working day."""
    def start(name):
        database = make_database(ROOT / name / "migrations")
        port = unused_port()
        config = dict(service_config(name), **rabbit_config)
        config.update(DATABASE_URL=database, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                      IDEMPOTENCY_WAIT_SECONDS=WAIT)
        container = container_factory(CLASSES[name], config)
        clock = Clock()
        clock.set(DAY, "10:05")
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        return Service(name, f"http://127.0.0.1:{port}", database)
    return start


def complaints_requests(service):
    staff = auth("complaints-dev-token")
    filed = [requests.post(f"{service.url}/complaints", json=COMPLAINT, timeout=30,
                           headers=as_citizen()).json() for _ in range(2)]
    return {
        "POST /complaints": once(lambda key: requests.post(
            f"{service.url}/complaints", json=COMPLAINT, timeout=NEVER_SECONDS,
            headers=dict(as_citizen("198.19.7.7"), **key))),
        "POST /complaints/withdraw": post(f"{service.url}/complaints/withdraw",
                                          {"reference": filed[0]["reference"]}),
        "POST /staff/complaints": once(lambda key: requests.post(
            f"{service.url}/staff/complaints", json=PAPER, timeout=NEVER_SECONDS,
            headers=dict(staff, **key))),
        "POST /staff/complaints/{complaint_id}/assign": post(
            f"{service.url}/staff/complaints/{filed[1]['complaint_id']}/assign",
            {"reviewer": "Nigar"}, staff),
        "POST /staff/complaints/{complaint_id}/answer": post(
            f"{service.url}/staff/complaints/{filed[1]['complaint_id']}/answer",
            {"decision": "resolved", "answer": "Kiosk düzəldildi."}, staff),
    }


PERSON = {"fin": "5AB2C7D", "name": "İlham", "surname": "Məmmədov", "patronymic": "Əli oğlu",
          "sex": "M", "birth_date": "1985-04-17",
          "card": {"series_number": "AZE10000001", "issued_on": "2020-01-01",
                   "expires_on": "2030-01-01"}}


def registry_requests(service):
    staff = auth("registry-dev-token")
    for person in (PERSON, dict(PERSON, fin="6HJ3K8L", card=dict(
            PERSON["card"], series_number="AZE10000002"))):
        answer = requests.post(f"{service.url}/admin/persons", json=person, headers=staff,
                               timeout=30)
        assert answer.status_code == 201, answer.text
    return {
        "POST /admin/persons": post(f"{service.url}/admin/persons", dict(
            PERSON, fin="7MN4P9Q", card=dict(PERSON["card"], series_number="AZE10000003")),
            staff),
        "POST /admin/id-cards/invalidate": post(f"{service.url}/admin/id-cards/invalidate", {
            "series_number": "AZE10000002", "status": "lost"}, staff),
        "POST /fin/by-id-card": post(f"{service.url}/fin/by-id-card",
                                     {"id_card": "AZE10000001"}, as_citizen()),
        "POST /fin/by-name": post(f"{service.url}/fin/by-name", {
            "name": "İlham", "surname": "Məmmədov", "patronymic": "Əli oğlu",
            "birth_date": "1985-04-17"}, as_citizen()),
    }


def monitoring_requests(service):
    return {"POST /reports/control": once(lambda key: requests.post(
        f"{service.url}/reports/control", json={"day": DAY}, timeout=NEVER_SECONDS,
        headers=dict(auth("monitoring-dev-token"), **key)))}


PREPARE = {"complaints": complaints_requests, "registry": registry_requests,
           "monitoring": monitoring_requests}


@pytest.mark.parametrize("name", sorted(PREPARE))
def test_every_command_answers_a_race_lost_every_time_409_busy(start_service, name):
    service = start_service(name)
    sends = PREPARE[name](service)
    expected = expected_when_racing(name, sends)
    assert {route: service.busy(send) for route, send in sends.items()} == expected


@pytest.mark.parametrize("name", sorted(PREPARE))
def test_every_once_route_tells_a_repeat_it_is_in_progress(start_service, name):
    service = start_service(name)
    sends = PREPARE[name](service)
    routes = documented(name, "in_progress")
    answers = {route: service.repeated_while_handled(sends[route]) for route in sorted(routes)}
    assert answers == {route: (409, "in_progress") for route in routes}
