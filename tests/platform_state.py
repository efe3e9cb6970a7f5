"""The shared platform as a test finds it, and as the test must leave it (issue 22 §1).

Integration, end-to-end and browser tests share one PostgreSQL, one RabbitMQ node, the
mail sink and the running services (``make test``). Some tests disturb them on purpose:
they kill or pause a service, restart PostgreSQL, close broker connections, make broker
users, publish into a platform queue. Such a test must leave the platform as it found
it, or a later test fails for a reason that is not its own (a broker without one of its
listeners, a user or a policy left behind, a service still paused).

This pytest plugin (loaded by ``tests/conftest.py``) compares a :func:`snapshot` of what
can be disturbed before and after

* each test marked ``disturbs_platform``: the modules of :data:`DISTURBING` are marked
  here, a new one can mark itself (``pytestmark = pytest.mark.disturbs_platform``);
* the whole run, when it has tests that need the platform: a change no marked test
  made still fails the run (in the last test's teardown).

A killed service is restarted by supervisord and PostgreSQL's pools recover by
themselves, so the comparison waits up to :data:`RESTORE_SECONDS` for the snapshot to
match before it fails, listing each difference.
"""
import json
import os
import subprocess
import time
from urllib.parse import quote, unquote, urlsplit

import psycopg
import pytest
import requests

from shared.runtime.config import REPO_ROOT, SERVICES

INFRA = REPO_ROOT / "deploy" / "bin" / "infra"
RESTORE_SECONDS = 60  # a process killed is back in seconds; this is for "never"
MARKER = "disturbs_platform"
# Test modules that disturb the broker, the database or the services (file: what).
DISTURBING = {
    "tests/e2e/test_keeps_serving.py": "SIGKILL of services and relays, PostgreSQL restarted",
    "tests/e2e/test_slow_neighbour.py": "a service paused (SIGSTOP)",
    "tests/e2e/test_prometheus.py": "a message published into a platform queue, then purged",
    "tests/integration/test_graceful_stop.py": "a service process stopped and killed",
    "tests/integration/test_relay.py": "relays killed mid-batch",
    "tests/integration/test_rabbitmq_cluster.py": "broker nodes started and killed",
    "tests/integration/test_broker_accounts.py": "broker users made, connections closed",
    "tests/integration/test_broker_addresses.py": "broker connections closed",
    "tests/integration/test_topology_migration.py": "queues migrated",
}
NEEDS_PLATFORM = ("tests/integration/", "tests/e2e/", "tests/browser/")
# Made and deleted by nameko's rabbit_config fixture, ahead of and after the tests, in
# the background: not the platform's.
TEST_VHOST_PREFIX = "nameko_test_"


# --- the snapshot: {what: its state}, flat, so that a difference reads as one line ----

def listeners():
    """Each listener ``deploy/bin/infra`` announces, by the bring-up's own check."""
    result = subprocess.run([str(INFRA), "check"], capture_output=True, text=True,
                            timeout=120, check=False)
    states = {}
    for line in result.stdout.splitlines():
        name, _, state = line.partition(":")
        states[f"listener {name.strip()}"] = "answers" if state.endswith(" answers") \
            else "NOT ANSWERING"
    return states or {"listeners": f"deploy/bin/infra check: {result.stderr.strip()}"}


def _broker_api():
    parts = urlsplit(os.environ["RABBIT_API_URI"])
    return (f"{parts.scheme}://{parts.hostname}:{parts.port}/api",
            (unquote(parts.username or ""), unquote(parts.password or "")))


def broker():
    """The node's listeners as it reports them, vhosts, users, permissions, policies,
    parameters, and the platform's durable queues (vhost ``/``)."""
    if not os.environ.get("RABBIT_API_URI"):
        return {}
    base, auth = _broker_api()

    def get(path):
        response = requests.get(base + path, auth=auth, timeout=10)
        response.raise_for_status()
        return response.json()

    try:
        overview = get("/overview")
        state = {f"broker listener {item['protocol']} {item['ip_address']}:{item['port']}":
                 "open" for item in overview.get("listeners", [])}
        # A vhost being created or deleted at this moment (a neighbour test's own)
        # is listed without its name for a while.
        state |= {f"broker vhost {vhost['name']}": "present" for vhost in get("/vhosts")
                  if "name" in vhost and not vhost["name"].startswith(TEST_VHOST_PREFIX)}
        state |= {f"broker user {user['name']}": str(sorted(user.get("tags") or []))
                  for user in get("/users")}
        state |= {f"broker permission {item['user']} on {item['vhost']}":
                  f"configure={item['configure']} write={item['write']} read={item['read']}"
                  for item in get("/permissions")
                  if not item["vhost"].startswith(TEST_VHOST_PREFIX)}
        for kind, path in (("policy", "/policies"), ("operator policy", "/operator-policies"),
                           ("parameter", "/parameters"), ("global parameter",
                                                          "/global-parameters")):
            state |= {f"broker {kind} {item.get('vhost', '')}/{item.get('component', '')}"
                      f"/{item['name']}": json.dumps({key: value for key, value in item.items()
                                                      if key not in ("vhost", "name")},
                                                     sort_keys=True)
                      for item in get(path)
                      if not item.get("vhost", "").startswith(TEST_VHOST_PREFIX)}
        state |= {f"broker queue /{queue['name']}": queue.get("type", "classic")
                  for queue in get(f"/queues/{quote('/', safe='')}"
                                   "?columns=name,type,durable,exclusive,auto_delete")
                  if queue.get("durable") and not queue.get("exclusive")
                  and not queue.get("auto_delete")}
        return state
    except (requests.RequestException, ValueError) as error:
        return {"broker": f"management API: {type(error).__name__}"}


def database():
    """Databases, roles, and settings changed on the server (``ALTER SYSTEM``)."""
    url = os.environ.get("ASAN_PG_ADMIN_URL")
    if not url:
        return {}
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            names = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate")
            state = {f"database {name}": "present" for (name,) in names}
            roles = conn.execute("SELECT rolname, rolsuper, rolcanlogin FROM pg_roles"
                                 " WHERE rolname NOT LIKE 'pg\\_%'")
            state |= {f"database role {name}": f"super={sup} login={login}"
                      for name, sup, login in roles}
            settings = conn.execute("SELECT name, setting FROM pg_file_settings"
                                    " WHERE sourcefile LIKE '%postgresql.auto.conf'")
            state |= {f"database setting {name}": value for name, value in settings}
            return state
    except psycopg.Error as error:
        return {"database": f"PostgreSQL: {type(error).__name__}"}


def services():
    """Each service's and the web pages' /health, each relay's and supervision's /metrics:
    the HTTP status, or that it did not answer (stopped, paused, gone)."""
    endpoints = {}
    for name in (*SERVICES, "web"):
        port = os.environ.get("ASAN_WEB_PORT" if name == "web" else f"{name.upper()}_PORT")
        if port:
            endpoints[f"service {name} /health"] = f"http://127.0.0.1:{port}/health"
        relay = os.environ.get(f"{name.upper()}_RELAY_PORT")
        if relay:
            endpoints[f"relay {name} /metrics"] = f"http://127.0.0.1:{relay}/metrics"
    if os.environ.get("ASAN_SUPERVISION_PORT"):
        endpoints["supervision /metrics"] = \
            f"http://127.0.0.1:{os.environ['ASAN_SUPERVISION_PORT']}/metrics"
    state = {}
    for what, url in endpoints.items():
        try:
            state[what] = str(requests.get(url, timeout=3).status_code)
        except requests.RequestException:
            state[what] = "no answer"
    return state


def snapshot():
    """The platform's state as ``{what: state}``."""
    return listeners() | broker() | database() | services()


def differences(before, after):
    """One line per change from ``before`` to ``after``; a part that could not be read
    on one side (the broker's API, PostgreSQL) is one line, not one per item."""
    unread = {part for part in ("broker", "database") if (part in before) != (part in after)}
    return [f"{what}: {before.get(what, '(absent)')} -> {after.get(what, '(absent)')}"
            for what in sorted(before.keys() | after.keys())
            if before.get(what) != after.get(what)
            and (what in unread or what.split(" ", 1)[0] not in unread)]


def restored(before, seconds=None):
    """Wait until the platform matches ``before`` again; the differences left after
    ``seconds`` (default :data:`RESTORE_SECONDS`; none when it does)."""
    deadline = time.monotonic() + (RESTORE_SECONDS if seconds is None else seconds)
    while True:
        changed = differences(before, snapshot())
        if not changed or time.monotonic() >= deadline:
            return changed
        time.sleep(1)


# --- the plugin ---------------------------------------------------------------------

_NEEDS_PLATFORM = pytest.StashKey[bool]()


def _relative(item):
    return item.path.relative_to(REPO_ROOT).as_posix()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{MARKER}: the test disturbs the broker, the database or the services;"
        " the platform must be as before when it ends (tests/platform_state.py)")


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if _relative(item) in DISTURBING:
            item.add_marker(MARKER)
    config.stash[_NEEDS_PLATFORM] = any(_relative(item).startswith(NEEDS_PLATFORM)
                                        for item in items)


_FAILED = []  # the tests whose check failed (pytest reports only the run's check when
#               the last test's fails too)


def _fail_unless_restored(before, who):
    changed = restored(before)
    if changed:
        _FAILED.append(who)
        pytest.fail(f"{who} left the platform changed ({RESTORE_SECONDS} s later):\n  "
                    + "\n  ".join(changed), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def platform_left_as_found_by_the_run(request):
    """The run as a whole: what no marked test changed must not change either."""
    if not request.config.stash.get(_NEEDS_PLATFORM, False):
        yield
        return
    before = snapshot()
    yield
    _fail_unless_restored(before, "the run, from its first test to its last (tests that"
                          f" failed this check: {', '.join(_FAILED) or 'none'}),")


@pytest.fixture(autouse=True)
def platform_left_as_found(request):
    """A test marked ``disturbs_platform`` leaves the platform as it found it."""
    if request.node.get_closest_marker(MARKER) is None:
        yield
        return
    before = snapshot()
    yield
    _fail_unless_restored(before, request.node.nodeid)
