"""D-4 on the running platform: Debian's Prometheus, started here with the project's
own config and rules, scrapes every service and relay, the Grafana dashboard's
queries are valid PromQL, and an alert fires when its condition is forced."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import amqp
import pytest
import requests
import yaml

from shared.amqp import connect, events_exchange_name
from shared.config import SERVICES, service_config
from tests.conftest import unused_port

pytestmark = pytest.mark.e2e
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def local_targets(config):
    """The committed scrape config, pointed at this run's ports and scraped every second."""
    by_job = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(by_job) == {"services", "relays", "supervision"}
    by_job["supervision"]["static_configs"] = [{"targets": [
        f"127.0.0.1:{os.environ.get('ASAN_SUPERVISION_PORT', '9009')}"]}]
    for job, port_of in (("services", lambda c: c["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1]),
                         ("relays", lambda c: str(c["RELAY_METRICS_PORT"]))):
        groups = by_job[job]["static_configs"]
        assert sorted(group["labels"]["service"] for group in groups) == sorted(SERVICES)
        for group in groups:
            group["targets"] = [f"127.0.0.1:{port_of(service_config(group['labels']['service']))}"]
    config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "prometheus" / path) for path in config["rule_files"]]
    return config


@pytest.fixture
def prometheus(tmp_path):
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: deploy/bin/setup installs Debian's prometheus"
    config = local_targets(yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text()))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = unused_port()
    log = open(tmp_path / "prometheus.log", "wb")
    process = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: requests.get(f"{url}/-/ready", timeout=2).status_code == 200, 30,
               "Prometheus did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _until(check, timeout, message):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except requests.RequestException as error:
            last = error
        time.sleep(0.5)
    raise AssertionError(f"{message} (last: {last})")


def _targets(url):
    return requests.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]


def test_d4_prometheus_scrapes_every_service_and_relay(prometheus):
    def all_up():
        targets = _targets(prometheus)
        return len(targets) == 2 * len(SERVICES) + 1 and \
            all(t["health"] == "up" for t in targets)

    _until(all_up, 60, "not every target is up")
    seen = {(t["labels"]["job"], t["labels"].get("service")) for t in _targets(prometheus)}
    assert seen == {(job, service) for job in ("services", "relays") for service in SERVICES} \
        | {("supervision", None)}  # the supervisor's listener: restarts and states

    rules = requests.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert all(rule["health"] == "ok" for group in rules for rule in group["rules"])


def test_d4_the_grafana_dashboard_queries_are_valid_promql(prometheus):
    dashboard = json.loads((DEPLOY / "grafana" / "asan-platform.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"]
               for target in panel.get("targets", [])]
    assert len(queries) > 15
    for query in queries:
        answer = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5)
        assert answer.status_code == 200 and answer.json()["status"] == "success", \
            (query, answer.text)


def test_d4_a_dead_letter_fires_its_alert(prometheus):
    """Forced for real: a message no consumer can read is parked by the monitoring
    consumer, monitoring's gauge counts the dead-letter queue, Prometheus alerts."""
    queue = "monitoring.on_notification_event.dlq"
    amqp_uri = service_config("monitoring")["AMQP_URI"]
    conn = connect(amqp_uri, confirm_publish=True)
    try:
        channel = conn.channel()
        channel.basic_publish(amqp.Message(b'{"not": "a cloudevent"}',
                                           content_type="application/json"),
                              exchange=events_exchange_name("notification"),
                              routing_key="NoSuchEvent")

        def firing():
            alerts = requests.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]
            return [a for a in alerts["alerts"]
                    if a["labels"]["alertname"] == "DeadLettersParked" and a["state"] == "firing"]

        alert = _until(firing, 90, "DeadLettersParked did not fire")[0]
        assert alert["labels"]["severity"] == "ticket"
        assert "parked" in alert["annotations"]["summary"]
    finally:
        channel = conn.channel()
        channel.queue_purge(queue)  # leave the shared platform clean for other tests
        conn.close()
