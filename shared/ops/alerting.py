"""Prometheus and Alertmanager for the operators (D-4), configured from the same
settings as ``make run``.

    python -m shared.ops.alerting config DIR    # DIR/prometheus.yml, DIR/alertmanager.yml

``deploy/bin/prometheus`` (``make prometheus``) writes them into
``$ASAN_STATE_DIR/alerting`` and runs both; the end-to-end test does the same with
its own ports and short intervals. The scrape targets are each service's HTTP port
and each relay's metrics port as the services' ``config.yaml`` resolve them from the
environment (``deploy/env.sh``), with ``SCALE=N`` every relay instance (base port +
100 × its number, ``shared.runtime.relay``), and the supervisor's listener
(``ASAN_SUPERVISION_PORT``). The rules are read where they are,
``deploy/prometheus/rules/``. Alertmanager emails every alert, when it fires and when
it is resolved, to ``OPERATOR_EMAIL`` through the SMTP server the notification
service uses (its ``SMTP_*`` settings and ``MAIL_FROM``; locally the mail sink).

Settings (environment, defaults in ``deploy/env.sh``):

* ``ASAN_PROMETHEUS_PORT``, ``ASAN_ALERTMANAGER_PORT``: where they listen (127.0.0.1);
* ``ASAN_PROMETHEUS_INTERVAL``: scrape and rule evaluation interval (``15s``);
* ``ASAN_ALERT_GROUP_WAIT``: how long Alertmanager gathers alerts before the first
  email of a group (``30s``);
* ``OPERATOR_EMAIL``: who gets the alerts (comma-separated addresses).
"""
import argparse
import os
import sys
from email.utils import parseaddr
from pathlib import Path

import yaml

from ..runtime.config import REPO_ROOT, SERVICES, service_config
from ..runtime.settings import setting as config_setting

RULES = REPO_ROOT / "deploy" / "prometheus" / "rules"
RULE_FILES = ("recording.yml", "alerts.yml")
DEFAULTS = {"ASAN_PROMETHEUS_PORT": "59090", "ASAN_ALERTMANAGER_PORT": "59093",
            "ASAN_PROMETHEUS_INTERVAL": "15s", "ASAN_ALERT_GROUP_WAIT": "30s",
            "ASAN_SUPERVISION_PORT": "9009", "OPERATOR_EMAIL": "operators@asan.example",
            "SCALE": "1"}


def setting(name):
    """The value of setting ``name`` in the environment, else its default (:data:`DEFAULTS`)."""
    return os.environ.get(name) or DEFAULTS[name]


def _port(address):
    return int(str(address).rsplit(":", 1)[1])


def prometheus_config():
    """Prometheus's configuration (a dict) for the local stack of this environment."""
    scale = max(1, int(setting("SCALE")))
    interval = setting("ASAN_PROMETHEUS_INTERVAL")
    services, relays = [], []
    for service in SERVICES:
        config = service_config(service)
        # SCALE=N: the instances of a service share its port (SO_REUSEPORT).
        services.append({"targets": [f"127.0.0.1:{_port(config['WEB_SERVER_ADDRESS'])}"],
                         "labels": {"service": service}})
        base = int(config["RELAY_METRICS_PORT"])
        relays.append({"targets": [f"127.0.0.1:{base + 100 * k}" for k in range(scale)],
                       "labels": {"service": service}})
    supervision = f"127.0.0.1:{setting('ASAN_SUPERVISION_PORT')}"
    alertmanager = f"127.0.0.1:{setting('ASAN_ALERTMANAGER_PORT')}"
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"platform": "asan"}},
        "rule_files": [str(RULES / name) for name in RULE_FILES],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            # The nameko services: GET /metrics on their HTTP port.
            {"job_name": "services", "metrics_path": "/metrics", "static_configs": services},
            # The outbox relays (python -m shared.runtime.relay): their own /metrics port.
            {"job_name": "relays", "metrics_path": "/metrics", "static_configs": relays},
            # supervisord's event listener (shared.ops.supervision): restarts and states.
            {"job_name": "supervision", "metrics_path": "/metrics",
             "static_configs": [{"targets": [supervision]}]},
        ],
    }


def alertmanager_config():
    """Alertmanager's configuration (a dict): every alert emailed to ``OPERATOR_EMAIL``
    through the notification service's SMTP server."""
    smtp = service_config("notification")
    starttls = config_setting(smtp, "SMTP_STARTTLS", bool)
    email = {"to": setting("OPERATOR_EMAIL"), "send_resolved": True}
    user = config_setting(smtp, "SMTP_USER", str | None)
    if user:
        email |= {"auth_username": user,
                  "auth_password": config_setting(smtp, "SMTP_PASSWORD", str | None) or ""}
    ca_file = config_setting(smtp, "SMTP_CA_FILE", str | None)
    if ca_file:
        email["tls_config"] = {"ca_file": ca_file}
    return {
        "global": {"smtp_smarthost": f"{smtp['SMTP_HOST']}:{smtp['SMTP_PORT']}",
                   # The address of MAIL_FROM under a name of its own (ASCII: Alertmanager
                   # does not encode a display name apart from its address).
                   "smtp_from": f"ASAN alerts <{parseaddr(str(smtp['MAIL_FROM']))[1]}>",
                   "smtp_require_tls": starttls},
        "route": {"receiver": "operators",
                  "group_by": ["alertname", "service", "program"],
                  "group_wait": setting("ASAN_ALERT_GROUP_WAIT"),
                  "group_interval": "5m", "repeat_interval": "4h"},
        "receivers": [{"name": "operators", "email_configs": [email]}],
    }


def write(directory):
    """Writes ``prometheus.yml`` and ``alertmanager.yml`` (mode 0600: it may hold the
    SMTP password) into ``directory``; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    header = "# Written by `python -m shared.ops.alerting config` (make prometheus): do not edit.\n"
    paths = []
    for name, config in (("prometheus.yml", prometheus_config()),
                         ("alertmanager.yml", alertmanager_config())):
        path = directory / name
        path.touch(mode=0o600)
        path.write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                        "utf-8")
        paths.append(path)
    return paths


def main(argv=None):
    """``python -m shared.ops.alerting config DIR``: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="write prometheus.yml and alertmanager.yml")
    config.add_argument("directory")
    args = parser.parse_args(argv)
    for path in write(args.directory):
        print(path)


if __name__ == "__main__":
    sys.exit(main())
