"""The one config loader: YAML with ``${VAR:default}`` substitution.

Services are started by ``nameko run --config services/<name>/config.yaml``, which
uses nameko's own YAML loader; the relay, the migration and topology commands and
the tests read the same files through :func:`load_config`, so every process sees
the same values.
"""
import warnings
from pathlib import Path

import yaml

# nameko's CLI module imports pkg_resources, which warns on every start.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
from nameko.cli.main import setup_yaml_parser  # noqa: E402

# As many folders up as this module is deep in its package, wherever that is.
REPO_ROOT = Path(__file__).resolve().parents[__name__.count(".")]
# Event-sourced services: each has its own database, an outbox relay and events.
SERVICES = ("booking", "notification", "kiosk_gateway", "registry", "complaints", "monitoring")
# The citizen web pages: they only call the services' HTTP APIs (no database, no relay).
PAGES = ("web",)

_parser_ready = False


def load_config(path):
    """Read one YAML config file, substituting environment variables."""
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def service_config_path(service):
    """``services/<service>/config.yaml`` under the repository root (a ``Path``)."""
    return REPO_ROOT / "services" / service / "config.yaml"


def service_config(service):
    """The config of one service, by its name."""
    if service not in SERVICES + PAGES:
        raise KeyError(f"unknown service {service!r}; known: {', '.join(SERVICES + PAGES)}")
    return load_config(service_config_path(service))
