"""D-2: services talk only through RabbitMQ — events, and RPC over the broker where a
caller needs an answer (the kiosk gateway asks booking, ``shared.runtime.rpc``). Read from the
source with ``ast``, so a shortcut between two services fails here before it runs.

What a service package (``services/<name>/``) may use of another one:

* **its event catalogue**, ``services.<other>.events``: the schemas of what the other
  publishes on the broker, the contract every subscriber reads (docs/asyncapi.yaml is
  made from these modules, D-3). Monitoring reads every service's events by them.
  Knowing a contract is not talking to its owner.
* **the agency's reference data**, ``services.booking.reference``: the centres, their
  services, opening hours and holidays, read from YAML files (``services/booking/data``)
  — published facts, not booking's state. Monitoring checks a report's centre and
  service against them.

Both must stay inert: neither they nor anything of their own service they import
opens a connection (no network or database client, no nameko entrypoint). Nothing
else crosses: no other module of another service, no HTTP client (a call to another
service's port would bypass the broker's retries, dead-letter queues and
back-pressure, and couple their uptimes), no other service's address in a service's
settings.

Allowed on purpose:

* **the pages** (``services/web``), the citizen's front end: the browser's side of the
  public HTTP APIs (booking, registry, complaints; the kiosk gateway's counter and
  board), rendered on the server. They keep no data — no database, relay or event —
  and import no service's package; only they name the services' addresses.
* ``services/kiosk_gateway/simulator.py``: a kiosk in a terminal (demos, tests), a
  command a person runs; a client of its own service's HTTP API, as a kiosk is (D-5).
* monitoring's ``EVENT_LOGS``: the other services' databases, read only by the
  operator's rebuild commands (``python -m services.monitoring.rebuild``,
  ``python -m shared.ops.rebuild monitoring``) to replay what the broker carried, cut to
  the public schema; never by the running service.
* ``shared/``: the platform code every service runs (event store, relay, consumers,
  RPC over the broker). It imports no service; its operator tools load one by name.
"""
import ast
import re
from pathlib import Path

from shared.runtime.config import PAGES, SERVICES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = SERVICES + PAGES
# What a service may import of another, and why (the module docstring).
CONTRACTS = {"events", "reference"}
CONTRACT_OWNERS = {"reference": {"booking"}}  # only booking's reference data is shared
# Clients of the network or of a database: the ways to talk other than the broker's.
HTTP_CLIENTS = {"requests", "urllib.request", "http.client", "httpx", "aiohttp", "urllib3"}
CONNECTIONS = HTTP_CLIENTS | {"socket", "smtplib", "psycopg", "psycopg_pool", "kombu", "amqp",
                              "pika", "nameko.rpc", "nameko.web", "nameko.events",
                              "shared.runtime.db", "shared.runtime.rpc", "shared.runtime.consumer",
                              "shared.edge.http"}
# A terminal kiosk (D-5): the one HTTP client outside the pages; it calls its own service.
OWN_HTTP_CLIENTS = {"services/kiosk_gateway/simulator.py": "kiosk_gateway"}
# The settings that say where another service is.
ADDRESS = re.compile(r"\$\{(%s)_(HOST|PORT|BIND|URL|DATABASE_URL|RELAY_PORT)\b"
                     % "|".join(name.upper() for name in SERVICES))


def modules(package):
    """(path relative to the repository, parsed module) of every module of ``package``."""
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text("utf-8")))
            for path in sorted((ROOT / "services" / package).rglob("*.py"))]


def imported(tree, package="shared"):
    """Every module name ``tree`` imports, relative imports resolved inside
    ``package`` (dotted: ``services.booking``, ``shared``). ``from p import m`` gives
    ``p.m`` when ``p`` is a folder of ours, else both ``p`` and ``p.m``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, (*parent, base)))
            if not (ROOT / base.replace(".", "/")).is_dir():
                names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def reaches(name, candidates):
    """Is ``name`` one of ``candidates`` or inside one of them?"""
    return any(name == c or name.startswith(c + ".") for c in candidates)


def other_services_used(package):
    """(module path, ``services.<other>.<module>``) for every import of another package."""
    found = set()
    for path, tree in modules(package):
        for name in imported(tree, f"services.{package}"):
            parts = name.split(".")
            if parts[0] == "services" and len(parts) >= 2 and parts[1] != package:
                found.add((path, ".".join(parts[:3])))
    return found


def test_d2_a_service_uses_of_another_only_its_event_catalogue_or_the_reference_data():
    crossing = {(path, name) for package in PACKAGES for path, name in
                other_services_used(package)}
    assert crossing, "the scan found nothing: monitoring reads every catalogue"
    wrong = {(path, name) for path, name in crossing
             if len(name.split(".")) < 3 or name.split(".")[2] not in CONTRACTS
             or name.split(".")[1] not in CONTRACT_OWNERS.get(name.split(".")[2],
                                                              set(SERVICES))}
    assert wrong == set(), "D-2: talk through the broker, not another service's code"


def test_d2_what_may_cross_opens_no_connection():
    """An event catalogue and the reference data, and every module of their own service
    they import, name no client of the network, a database or the broker."""
    for package in SERVICES:
        trees = dict(modules(package))
        todo = [f"services/{package}/{name}.py" for name in CONTRACTS
                if f"services/{package}/{name}.py" in trees]
        seen = set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            names = imported(trees[path], f"services.{package}")
            assert not {n for n in names if reaches(n, CONNECTIONS)}, path
            todo += [f"services/{package}/{n.split('.')[2]}.py" for n in names
                     if n.startswith(f"services.{package}.")
                     and f"services/{package}/{n.split('.')[2]}.py" in trees]
        assert f"services/{package}/events.py" in seen


def test_d2_no_service_but_the_pages_holds_an_http_client():
    clients = {path for package in SERVICES for path, tree in modules(package)
               if {n for n in imported(tree, f"services.{package}") if reaches(n, HTTP_CLIENTS)}}
    assert clients == set(OWN_HTTP_CLIENTS)
    assert {path for path, tree in modules("web")
            if {n for n in imported(tree, "services.web") if reaches(n, HTTP_CLIENTS)}}, \
        "the pages call the services' HTTP APIs: the scan should see their client"


def test_d2_the_terminal_kiosk_addresses_only_its_own_service():
    for path, own in OWN_HTTP_CLIENTS.items():
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        configs = {node.args[0].value for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and getattr(node.func, "id", "")
                   == "service_config"}
        assert configs == {own}, path


def test_d2_only_the_pages_settings_name_where_another_service_is():
    for package in PACKAGES:
        named, section = [], None
        for line in (ROOT / "services" / package / "config.yaml").read_text("utf-8") \
                .splitlines():
            if line and not line[0].isspace() and not line.startswith("#"):
                section = line.split(":", 1)[0]
            if line.lstrip().startswith("#"):
                continue
            named += [(section, m.group(1).lower()) for m in ADDRESS.finditer(line)
                      if m.group(1).lower() != package]
        if package == "web":
            assert {service for _, service in named} == {"booking", "registry",
                                                         "complaints", "kiosk_gateway"}
        elif package == "monitoring":
            assert {section for section, _ in named} == {"EVENT_LOGS"}
        else:
            assert named == [], package


def test_d2_monitoring_reads_other_databases_only_in_the_operators_rebuild():
    """``EVENT_LOGS`` is read by the rebuild commands, never by the running service."""
    readers = set()
    for path, tree in modules("monitoring"):
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and any(
                    (isinstance(node, ast.Constant) and node.value == "EVENT_LOGS")
                    or (isinstance(node, ast.Attribute) and node.attr == "EVENT_LOGS")
                    for node in ast.walk(function)):
                readers.add((path, function.name))
    assert readers == {("services/monitoring/read_model.py", "rebuild"),
                       ("services/monitoring/rebuild.py", "main")}
    service = ast.parse((ROOT / "services/monitoring/service.py").read_text("utf-8"))
    assert not any(isinstance(node, ast.Attribute) and node.attr == "rebuild"
                   for node in ast.walk(service))
    assert "services.monitoring.rebuild" not in imported(service, "services.monitoring")


def test_d2_the_pages_keep_no_data_and_join_no_broker_conversation():
    """Only HTTP: no database, broker or mail client, no service's package (their own
    HTTP server, ``shared.edge.http``, is how the browser reaches them)."""
    for path, tree in modules("web"):
        names = imported(tree, "services.web")
        assert not {n for n in names if reaches(n, CONNECTIONS - HTTP_CLIENTS
                                                - {"shared.edge.http"})}, path
        assert not {n for n in names if n.startswith("services.")
                    and not n.startswith("services.web")}, path
    settings = (ROOT / "services" / "web" / "config.yaml").read_text("utf-8")
    assert not [line for line in settings.splitlines()
                if "DATABASE_URL" in line and not line.lstrip().startswith("#")]


def test_d2_shared_imports_no_service():
    for path in sorted((ROOT / "shared").rglob("*.py")):
        names = imported(ast.parse(path.read_text("utf-8")))
        assert not {n for n in names if n.split(".")[0] == "services"}, path
