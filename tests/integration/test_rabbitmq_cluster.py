"""Issue 13 §2: one of three RabbitMQ nodes dies in the middle of a booking load, and
nothing is lost.

A real three-node cluster on this machine (``deploy/bin/cluster up``: its own node
names, ports and folders under the state dir, joined with ``rabbitmqctl
join_cluster``), with a vhost of the test's own. Booking and notification run
in-process (a database each) with ``AMQP_URI`` naming the three nodes, their outbox
relays in threads, the topology declared against the cluster (quorum queues), a mail
sink of the test's own. Citizens book for ~25 s (request, the code from the email,
confirm, the order code email) while an RPC caller asks booking for its catalogue;
half-way, the node holding the queues' leaders gets SIGKILL. Then:

* every booking the API accepted exists (0 lost), confirmed ones confirmed;
* exactly one confirmation-code email per accepted booking and one order-code email
  per confirmed one (by recipient and Message-ID: a duplicate would show);
* the consumers resumed on the surviving nodes: bookings requested after the kill
  got their emails, the queues have consumers and leaders on the other two nodes;
* what the failover cost is printed (``make cluster`` shows it): the time until the
  first email of a booking requested after the kill, the longest pause between
  emails, requests refused or slow, RPC calls answered 503. No timing is asserted.

If the cluster cannot start, the test fails with the nodes' logs.
"""
import email
import email.policy
import os
import random
import signal
import statistics
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import eventlet
import psycopg
import pytest
import requests
from nameko.testing import rabbit
from nameko.testing.services import dummy, entrypoint_hook, replace_dependencies

from services.booking.reference import ReferenceData
from services.booking.service import BookingService
from services.notification.service import NotificationService
from shared.runtime.config import service_config
from shared.vocabulary.errors import Unavailable
from shared.runtime.relay import Relay
from tests.keys import signer_for
from shared.runtime.rpc import RpcProxy
from shared.ops.topology import declare
from shared.runtime.config import service_config
from tests import chance
from tests.clock import Clock
from tests.conftest import platform_config, unused_port
from tests.integration.notification.conftest import own_mail_sink  # noqa: F401 (a fixture)
from tests.mailbox import confirmation_code

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "bin" / "cluster"
LOAD_SECONDS = float(os.environ.get("ASAN_CLUSTER_LOAD_SECONDS", 25))
CLIENTS = int(os.environ.get("ASAN_CLUSTER_CLIENTS", 8))
EMAIL_WAIT = 120  # seconds a citizen waits for an email before the test calls it lost
DAY = date(2026, 11, 24)  # the day after the clock's (a Tuesday)


@dataclass
class Node:
    number: int
    name: str
    amqp_port: int
    management_port: int
    pid_file: Path
    log: Path

    @property
    def api(self):
        return rabbit.Client(f"http://guest:guest@127.0.0.1:{self.management_port}")

    def pid(self):
        return int(self.pid_file.read_text().split()[0])


def _cluster(*args, timeout=300):
    return subprocess.run([str(CLUSTER), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _tail(path, lines=40):
    path = Path(path)
    if not path.exists():
        return f"({path} does not exist)"
    return f"---- {path} ----\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def cluster():
    """The three nodes, up (started afresh when none ran) and stopped after."""
    nodes = []
    for number, line in enumerate(_cluster("nodes").stdout.splitlines(), start=1):
        name, amqp_port, management_port, pid_file, log = line.split("\t")
        nodes.append(Node(number, name, int(amqp_port), int(management_port), Path(pid_file),
                          Path(log)))
    started = time.monotonic()
    up = _cluster("up")
    if up.returncode != 0:
        logs = "\n".join(_tail(node.log) + "\n" + _tail(node.pid_file.parent / "log" /
                                                          f"{node.name}.log")
                         for node in nodes)
        _cluster("down")
        pytest.fail(f"the RabbitMQ cluster did not start:\n{up.stdout}\n{up.stderr}\n{logs}")
    print(f"\ncluster: up in {time.monotonic() - started:.0f} s:"
          f" {', '.join(f'{n.name} (amqp {n.amqp_port})' for n in nodes)}")
    yield nodes
    _cluster("down")


@pytest.fixture
def vhost(cluster):
    """A vhost of the test's own on the cluster; the AMQP_URI naming all three nodes.
    It goes with the cluster (``down``, and the next ``up`` starts afresh): deleting a
    vhost while a node is down waits minutes for that node."""
    name = f"cluster_test_{uuid.uuid4().hex[:8]}"
    api = cluster[0].api
    api.create_vhost(name)
    api.set_vhost_permissions(name, "guest", ".*", ".*", ".*")
    return name, ";".join(f"amqp://guest:guest@127.0.0.1:{node.amqp_port}/{name}"
                          for node in cluster)


class Caller:
    """Asks booking for its catalogue over RPC (as the kiosk gateway does)."""
    name = "cluster_rpc_caller"
    booking = RpcProxy("booking")

    @dummy
    def catalogue(self):
        return self.booking.service_catalogue()


class MailWatcher:
    """Indexes the sink's .eml files as they arrive: recipient → [(template, message id,
    arrival)], and wakes the citizens waiting for one."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = set()
        self.by_recipient = {}
        self.arrivals = []  # (monotonic time, message id)
        self.stopped = False
        self.thread = eventlet.spawn(self._scan)

    def _scan(self):
        while not self.stopped:
            for path in sorted(self.folder.glob("*.eml")):
                if path.name in self.seen:
                    continue
                self.seen.add(path.name)
                with open(path, "rb") as handle:
                    message = email.message_from_binary_file(handle, policy=email.policy.default)
                to = str(message["X-Envelope-To"]).lower()
                template = str(message["X-Template"]).split("/")[0]
                now = time.monotonic()
                self.by_recipient.setdefault(to, []).append((template, str(message["Message-ID"]),
                                                             now, message))
                self.arrivals.append((now, str(message["Message-ID"])))
            eventlet.sleep(0.05)

    def wait(self, recipient, template, timeout=EMAIL_WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for found in self.by_recipient.get(recipient, []):
                if found[0] == template:
                    return found
            eventlet.sleep(0.05)
        return None

    def count(self, recipient, template):
        return sum(1 for found in self.by_recipient.get(recipient, []) if found[0] == template)


@dataclass
class Booking:
    email: str
    requested_at: float
    status: object = None  # the request's HTTP status, or the exception's name
    booking_id: str = None
    code_at: float = None
    confirm_status: object = None
    order_at: float = None


@dataclass
class Load:
    started: float = field(default_factory=time.monotonic)
    kill_at: float = None
    killed: Node = None
    bookings: list = field(default_factory=list)
    calls: list = field(default_factory=list)  # (at, route, status or error, seconds)
    rpc: list = field(default_factory=list)  # (at, ok)

    def call(self, session, route, url, body):
        started = time.monotonic()
        try:
            response = session.post(url, json=body, timeout=30)
            status = response.status_code
        except requests.RequestException as error:
            response, status = None, type(error).__name__
        self.calls.append((started, route, status, time.monotonic() - started))
        return response, status


def _slots():
    reference = ReferenceData.load()
    slots = [(centre.code, code, moment.strftime("%H:%M"))
             for centre in reference.centres.values() for code in sorted(centre.services)
             for moment in reference.slot_times(centre, reference.services[code], DAY)]
    chance.rng().shuffle(slots)
    return iter(slots)


def _form(to, centre, service, at):
    return {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı",
            "id_card": f"AZE{random.randrange(10 ** 8):08d}",
            "phone": f"+99450{random.randrange(2000000, 9999999)}", "email": to,
            "service": service, "centre": centre, "date": DAY.isoformat(), "time": at}


def _after_the_load(base, watcher, slots):
    """A booking made after the load: once its code email has arrived, a copy of any
    earlier email (a message redelivered after the failover) has come before it, through
    the same relay, queue and consumer. Another slot if one is full."""
    to = f"cluster-marker-{uuid.uuid4().hex[:12]}@example.az"
    for centre, service, at in slots:
        answer = requests.post(f"{base}/bookings", json=_form(to, centre, service, at),
                               timeout=30)
        if answer.status_code == 202:
            break
        assert answer.status_code == 409, answer.text
    assert watcher.wait(to, "booking_confirmation_code"), "the booking after the load"


def _citizen(load, base, watcher, slots, until):
    session = requests.Session()
    while time.monotonic() < until:
        centre, service, at = next(slots)
        to = f"cluster-{uuid.uuid4().hex[:12]}@example.az"
        booking = Booking(to, time.monotonic())
        load.bookings.append(booking)
        response, booking.status = load.call(session, "request", f"{base}/bookings",
                                             _form(to, centre, service, at))
        if booking.status != 202:
            continue
        booking.booking_id = response.json()["booking_id"]
        found = watcher.wait(to, "booking_confirmation_code")
        if found is None:
            continue
        booking.code_at = found[2]
        response, booking.confirm_status = load.call(
            session, "confirm", f"{base}/bookings/{booking.booking_id}/confirm",
            {"code": confirmation_code(found[3])})
        if booking.confirm_status != 200:
            continue
        found = watcher.wait(to, "booking_order_code")
        booking.order_at = found[2] if found else None


def _rpc_prober(load, caller, until):
    with entrypoint_hook(caller, "catalogue") as catalogue:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                ok = bool(catalogue()["services"])
            except Unavailable:  # the deadline passed, or the call could not be sent
                ok = False
            load.rpc.append((started, ok))
            eventlet.sleep(0.25)


def _leaders(cluster, vhost_name):
    """Queue leaders per node name, as a node that is up sees them."""
    for node in cluster:
        try:
            queues = node.api.get_queues(vhost_name)
        except Exception:  # the node killed
            continue
        return Counter(queue.get("leader") for queue in queues if queue.get("type") == "quorum")
    return Counter()


def _killer(load, cluster, vhost_name, at):
    eventlet.sleep(max(0, at - time.monotonic()))
    leaders = _leaders(cluster, vhost_name)
    victim = max(cluster, key=lambda node: (leaders[node.name], -node.number))
    pid = victim.pid()
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        assert b"beam.smp" in handle.read(), "the pid file of a node names its Erlang VM"
    os.kill(pid, signal.SIGKILL)
    load.kill_at, load.killed = time.monotonic(), victim
    print(f"cluster: SIGKILL to {victim.name} (beam.smp pid {pid}), leader of"
          f" {leaders[victim.name]} of {sum(leaders.values())} queues,"
          f" {load.kill_at - at:+.1f} s")


@pytest.fixture
def platform(vhost, container_factory, make_database, own_mail_sink):
    vhost_name, amqp_uri = vhost
    sink = own_mail_sink()
    clock = Clock()  # 2026-11-23 10:00 in Baku: the day before DAY
    booking_db = make_database(ROOT / "services" / "booking" / "migrations")
    notification_db = make_database(ROOT / "services" / "notification" / "migrations")
    booking_port, notification_port = unused_port(), unused_port()
    configs = {
        "booking": dict(service_config("booking"), AMQP_URI=amqp_uri, DATABASE_URL=booking_db,
                        BOOKING_CODE_KEY="test-key",
                        WEB_SERVER_ADDRESS=f"127.0.0.1:{booking_port}", HOLD_SWEEP_SECONDS=3600,
                        LAPSE_SWEEP_SECONDS=3600, RATE_LIMITS_ENABLED=False, max_workers=20),
        # Notification's settings are one object: it starts from its config.yaml.
        "notification": dict(service_config("notification"), AMQP_URI=amqp_uri,
                             DATABASE_URL=notification_db,
                             WEB_SERVER_ADDRESS=f"127.0.0.1:{notification_port}",
                             max_workers=20, **sink.config),
    }
    declare(amqp_uri, services=tuple(configs), config_of=configs.__getitem__)
    containers = {}
    for name, cls in (("booking", BookingService), ("notification", NotificationService)):
        container = container_factory(cls, configs[name])
        replace_dependencies(container, "clock").side_effect = clock
        container.start()
        containers[name] = container
    caller = container_factory(Caller, platform_config(AMQP_URI=amqp_uri, RPC_TIMEOUT_SECONDS=2))
    caller.start()
    relays = [Relay(name, configs[name]["DATABASE_URL"], amqp_uri, signer_for(name),
                    poll_interval=0.2, sequence_format=configs[name]["EVENT_SEQUENCE_FORMAT"])
              for name in configs]
    threads = [eventlet.spawn(relay.run) for relay in relays]
    yield {"base": f"http://127.0.0.1:{booking_port}", "booking_db": booking_db,
           "sink": sink, "caller": caller, "vhost": vhost_name}
    for relay in relays:
        relay.stop()
    for thread in threads:
        thread.wait()
    for container in (caller, *containers.values()):
        container.stop()


def _report(load, watcher, booking_db, leaders_after):
    """What happened, for a person to read (make cluster)."""
    kill = load.kill_at
    accepted = [b for b in load.bookings if b.status == 202]
    confirmed = [b for b in accepted if b.confirm_status == 200]
    before = [b.code_at - b.requested_at for b in accepted
              if b.code_at and b.requested_at < kill - 2] or [0]
    after_kill = [b for b in accepted if b.requested_at > kill and b.code_at]
    first_after = min((b.code_at for b in after_kill), default=None)
    arrivals = sorted(at for at, _ in watcher.arrivals if at > kill - 1)
    pause = max((later - earlier for earlier, later in zip(arrivals, arrivals[1:])), default=0)
    in_flight = [b.code_at - b.requested_at for b in accepted
                 if b.code_at and kill - 5 < b.requested_at <= kill]
    refused = Counter(str(status) for _, _, status, _ in load.calls
                      if status not in (200, 202))
    slow_after = max((seconds for at, _, _, seconds in load.calls if at >= kill), default=0)
    rpc_failed = [at for at, ok in load.rpc if not ok]

    rpc_ok_after = min((at for at, ok in load.rpc if ok and at > kill), default=None)
    with psycopg.connect(booking_db) as conn:
        stored = dict(conn.execute("SELECT booking_id::text, status FROM bookings").fetchall())
    codes = Counter(watcher.count(b.email, "booking_confirmation_code") for b in accepted)
    orders = Counter(watcher.count(b.email, "booking_order_code") for b in confirmed)
    lost = sum(1 for b in accepted if b.booking_id not in stored)
    lines = [
        f"bookings requested {len(load.bookings)}, accepted (202) {len(accepted)},"
        f" confirmed (200) {len(confirmed)}; stored {len(accepted) - lost} of the accepted"
        f" (lost: {lost})",
        f"emails per accepted booking, confirmation code: {dict(codes)};"
        f" per confirmed booking, order code: {dict(orders)} (count: bookings)",
        f"node killed {load.killed.name} at {kill - load.started:.1f} s into"
        f" the load; {len(after_kill)} bookings requested after it got their code email",
        f"time to recover: first code email of a booking requested after the kill"
        f" {first_after - kill:.1f} s after it" if first_after else "time to recover: NONE",
        f"longest pause between two emails after the kill {pause:.1f} s; request to code"
        f" email: median {statistics.median(before):.2f} s before the kill, max"
        f" {max(in_flight, default=0):.1f} s for bookings requested in the 5 s before it",
        f"HTTP: {len(load.calls)} requests, refused or failed {sum(refused.values())}"
        f" {dict(refused) or ''}; slowest after the kill {slow_after:.2f} s",
        f"RPC (booking.service_catalogue every 0.25 s): {len(load.rpc)} calls,"
        f" {len(rpc_failed)} answered 503"
        + (f" between {min(rpc_failed) - kill:+.1f} s and {max(rpc_failed) - kill:+.1f} s of"
           " the kill" if rpc_failed else "")
        + (f"; first answer after the kill {rpc_ok_after - kill:.1f} s after it"
           if rpc_ok_after else ""),
        f"queue leaders after the kill: {dict(leaders_after)}",
    ]
    print("\n".join(f"cluster: {line}" for line in lines))
    return stored


@pytest.mark.timeout(600)
def test_a_broker_node_killed_under_a_booking_load_loses_no_booking_and_no_email(
        platform, cluster):
    watcher = MailWatcher(platform["sink"].mail_dir)
    load, slots = Load(), _slots()
    until = load.started + LOAD_SECONDS
    workers = [eventlet.spawn(_citizen, load, platform["base"], watcher, slots, until)
               for _ in range(CLIENTS)]
    workers.append(eventlet.spawn(_rpc_prober, load, platform["caller"], until + 5))
    killer = eventlet.spawn(_killer, load, cluster, platform["vhost"],
                            load.started + LOAD_SECONDS / 2)
    killer.wait()
    for worker in workers:
        worker.wait()
    _after_the_load(platform["base"], watcher, slots)
    watcher.stopped = True
    survivors = [node for node in cluster if node is not load.killed]
    consumed = _consumed(survivors[0], platform["vhost"], "notification.on_booking_email",
                         {node.name for node in survivors})
    stored = _report(load, watcher, platform["booking_db"],
                     _leaders(survivors, platform["vhost"]))

    accepted = [b for b in load.bookings if b.status == 202]
    assert len(accepted) >= CLIENTS, "the load ran"
    assert [b for b in accepted if b.booking_id not in stored] == []  # 0 lost bookings
    for booking in accepted:  # each exactly once: none lost, none twice
        assert watcher.count(booking.email, "booking_confirmation_code") == 1, booking
        if booking.confirm_status == 200:
            assert stored[booking.booking_id] == "confirmed"
            assert watcher.count(booking.email, "booking_order_code") == 1, booking
    message_ids = Counter(message_id for _, message_id in watcher.arrivals)
    assert [mid for mid, count in message_ids.items() if count > 1] == []
    assert [b for b in accepted if b.code_at is not None and b.confirm_status != 200] == []

    # The consumers resumed on the surviving nodes.
    assert [b for b in accepted if b.requested_at > load.kill_at and b.order_at], \
        "bookings made after the kill went all the way through"
    assert consumed["consumers"] >= 1 and consumed["leader"] in {n.name for n in survivors}, \
        consumed
    assert _rpc_answers(platform["caller"]), "RPC answers again"


def _consumed(node, vhost_name, queue, survivors):
    """The queue as ``node`` sees it, once it has a consumer and a leader among the
    survivors (the management API's figures lag a few seconds), or after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        info = node.api.get_queue(vhost_name, queue)
        found = {key: info.get(key) for key in ("consumers", "leader", "members", "messages")}
        if (found["consumers"] and found["leader"] in survivors) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _rpc_answers(caller, tries=5):
    with entrypoint_hook(caller, "catalogue") as catalogue:
        for _ in range(tries):
            try:
                return bool(catalogue()["services"])
            except Unavailable:
                continue
    return False
