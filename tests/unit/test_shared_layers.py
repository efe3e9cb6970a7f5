"""The four kinds of shared code, read from the source with ``ast`` (STYLE.md: the
architecture at a glance): ``shared.vocabulary`` (pure), ``shared.runtime`` (inside
every service process), ``shared.edge`` (HTTP), ``shared.ops`` (``python -m``
programs). A package imports only those before it in that order, so there is no
cycle between them; the vocabulary imports no nameko, database or broker client; a
service's ``domain.py`` imports only the vocabulary of shared/, and nothing that pulls
in nameko, even through its own service's modules.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = ("vocabulary", "runtime", "edge", "ops")
OUTSIDE_WORLD = ("nameko", "psycopg", "psycopg_pool", "kombu", "amqp", "eventlet",
                 "requests", "prometheus_client", "structlog", "yoyo")


def imports(path, package):
    """Absolute module names ``path`` imports (relative ones resolved in ``package``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, (*parent, base)))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def layer(name):
    """The package of shared/ a dotted module name is in, or None."""
    parts = name.split(".")
    return parts[1] if parts[0] == "shared" and len(parts) > 1 and parts[1] in ORDER \
        else None


def test_shared_holds_only_its_four_packages():
    loose = sorted(p.name for p in (ROOT / "shared").glob("*.py") if p.name != "__init__.py")
    assert loose == [], "every module of shared/ lives in one of its four packages"
    assert {p.name for p in (ROOT / "shared").iterdir()
            if p.is_dir() and p.name != "__pycache__"} == set(ORDER)


@pytest.mark.parametrize("package", ORDER)
def test_a_package_of_shared_imports_only_those_below_it(package):
    allowed = set(ORDER[:ORDER.index(package) + 1])
    wrong = {}
    for path in sorted((ROOT / "shared" / package).rglob("*.py")):
        used = {layer(n) for n in imports(path, f"shared.{package}")} - {None}
        if used - allowed:
            wrong[str(path.relative_to(ROOT))] = sorted(used - allowed)
    assert wrong == {}


def test_the_vocabulary_imports_no_nameko_database_or_broker():
    wrong = {}
    for path in sorted((ROOT / "shared" / "vocabulary").rglob("*.py")):
        outside = {n for n in imports(path, "shared.vocabulary")
                   if n.split(".")[0] in OUTSIDE_WORLD}
        if outside:
            wrong[str(path.relative_to(ROOT))] = sorted(outside)
    assert wrong == {}


def test_a_domain_imports_only_the_vocabulary_of_shared_and_never_nameko():
    domains = sorted((ROOT / "services").glob("*/domain.py"))
    assert domains, "every event-sourced service has a domain.py"
    for domain in domains:
        service = domain.parent.name
        seen, todo = set(), [domain]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            names = imports(path, f"services.{service}")
            assert not {n for n in names if layer(n) not in (None, "vocabulary")}, path
            assert not {n for n in names if n.split(".")[0] in OUTSIDE_WORLD}, path
            for name in names:  # its own service's modules, and shared's, transitively
                candidate = ROOT / (name.replace(".", "/") + ".py")
                if name.split(".")[0] in ("services", "shared") and candidate.exists():
                    todo.append(candidate)
