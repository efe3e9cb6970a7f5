"""D-4 on the running platform: `make prometheus` (deploy/bin/prometheus: Debian's
Prometheus and Alertmanager, configured by shared/ops/alerting.py from the same settings
as `make run`), started here on its own ports with one-second intervals, scrapes
every service, relay and the supervisor; every series an alert or a dashboard panel
reads exists from start-up; the Grafana dashboard's queries are valid PromQL; a
SIGKILLed relay raises ProcessCrashed the first time, and it arrives as an email
to the operators in the mail sink; a dead letter raises its alert."""
import json
import os
import re
import signal
import subprocess
import time

import amqp
import pytest
import requests
import yaml

from shared.runtime.amqp import connect
from shared.runtime.config import REPO_ROOT, SERVICES, service_config
from tests.conftest import unused_port
from tests.mailbox import messages_to
from tests.processes import pids_of

pytestmark = pytest.mark.e2e
DEPLOY = REPO_ROOT / "deploy"
OPERATORS = "alerts-e2e@asan.example"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """`deploy/bin/prometheus` against this run's stack: its URL; Alertmanager's too
    (``prometheus.alertmanager``)."""
    state = tmp_path_factory.mktemp("alerting")
    env = dict(os.environ, ASAN_ALERTING_DIR=str(state), ASAN_PROMETHEUS_PORT=str(unused_port()),
               ASAN_ALERTMANAGER_PORT=str(unused_port()),
               ASAN_PROMETHEUS_INTERVAL="1s", ASAN_ALERT_GROUP_WAIT="1s",
               OPERATOR_EMAIL=OPERATORS)
    process = subprocess.Popen([str(DEPLOY / "bin" / "prometheus")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = URL(f"http://127.0.0.1:{env['ASAN_PROMETHEUS_PORT']}")
    url.alertmanager = f"http://127.0.0.1:{env['ASAN_ALERTMANAGER_PORT']}"
    url.config = state / "prometheus.yml"
    try:
        for ready in (url, url.alertmanager):
            _until(lambda: requests.get(f"{ready}/-/ready", timeout=2).status_code == 200, 60,
                   f"{ready} did not become ready")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        print(output.decode("utf-8", "replace"))


class URL(str):
    """Prometheus's base URL, with Alertmanager's and the config file beside it."""


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


# A gauge the process sets only once it has measured it (0 would be a claim): how many
# of a centre's kiosks have not been seen.
LEARNED_AS_IT_WORKS = {"asan_kiosks_not_seen"}


def _selectors():
    """Every raw series selector (``asan_…{…}``) in the alert and recording rules and the
    Grafana dashboard's queries."""
    texts = [rule["expr"] for name in ("alerts.yml", "recording.yml")
             for group in yaml.safe_load((DEPLOY / "prometheus" / "rules" / name).read_text())
             ["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "asan-platform.json").read_text())
    texts += [target["expr"] for panel in dashboard["panels"]
              for target in panel.get("targets", [])]
    return sorted({match.group(0) for text in texts
                   for match in re.finditer(r"\basan_[a-z_]+(\{[^}]*\})?", text)})


def _query(url, query):
    answer = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()
    assert answer["status"] == "success", (query, answer)
    return answer["data"]["result"]


def test_d4_every_series_an_alert_or_a_panel_reads_exists_from_start_up(prometheus):
    """Issue 23 §4: a counter that first appears at 1 is invisible to increase() and
    rate(); every process declares its own at zero (shared.runtime.metrics.at_zero)."""
    _until(lambda: all(t["health"] == "up" for t in _targets(prometheus)), 60,
           "not every target is up")
    selectors = _selectors()
    assert 'asan_process_exits_total{expected="false"}' in selectors
    assert "asan_fin_throttled_total" in selectors and "asan_rate_limited_total{limit!=" \
        '"fin_lookup"}' in selectors
    missing = [selector for selector in selectors
               if selector.split("{")[0] not in LEARNED_AS_IT_WORKS
               and not _query(prometheus, f"count({selector})")]
    assert not missing, f"no series yet for: {missing}"
    # Each supervised program's crash counter, each relay's, each rate limit's.
    programs = {series["metric"]["program"] for series in _query(
        prometheus, 'asan_process_exits_total{expected="false"}')}
    assert {f"{service}-relay" for service in SERVICES} <= programs
    limits = {(series["metric"]["service"], series["metric"]["limit"])
              for series in _query(prometheus, "asan_rate_limited_total")}
    assert {("booking", "holds_per_address"), ("registry", "fin_lookup"),
            ("complaints", "complaint_file")} <= limits


def _relay_answers(service):
    port = service_config(service)["RELAY_METRICS_PORT"]
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _alerts(url, name, **labels):
    alerts = requests.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [alert for alert in alerts if alert["labels"]["alertname"] == name
            and all(alert["labels"].get(key) == value for key, value in labels.items())]


def test_d4_the_first_crash_of_a_relay_fires_process_crashed_and_emails_the_operators(
        prometheus):
    """Issue 23 §4, for real: the relay of complaints (no other test kills it) is
    SIGKILLed, supervisord restarts it, the listener counts the exit, Prometheus fires
    ProcessCrashed at once, and Alertmanager emails it to OPERATOR_EMAIL through the
    platform's SMTP server (the mail sink)."""
    program, crashes = "complaints-relay", 'asan_process_exits_total{program="complaints-relay",' \
        'expected="false"}'
    _until(lambda: _query(prometheus, crashes), 60, "the crash counter is not scraped")
    assert float(_query(prometheus, crashes)[0]["value"][1]) == 0  # at zero, not absent
    assert not _alerts(prometheus, "ProcessCrashed", program=program)
    pids = pids_of("shared.runtime.relay services/complaints/config.yaml")
    assert pids, "the complaints relay is not running from this checkout"
    try:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        alert = _until(lambda: [a for a in _alerts(prometheus, "ProcessCrashed", program=program)
                                if a["state"] == "firing"], 90,
                       "ProcessCrashed did not fire")[0]
        assert alert["labels"]["severity"] == "ticket"
        assert alert["annotations"]["summary"] == f"{program} crashed and was restarted"

        def emailed():
            return [message for message in messages_to(OPERATORS)
                    if "ProcessCrashed" in str(message["Subject"])
                    and program in str(message["Subject"])]

        message = _until(emailed, 90, f"no ProcessCrashed email to {OPERATORS}")[0]
        assert "FIRING" in str(message["Subject"])
        assert message["From"].addresses[0].addr_spec  # a From a mail client can read
        body = message.get_body(("html", "plain")).get_content()
        assert f"{program} crashed and was restarted" in body
    finally:
        _until(lambda: _relay_answers("complaints"), 60, "the relay did not come back")


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
    # Straight into the consumer's own queue, as the broker's administrator: through
    # notification's public exchange it would stay in notification.events.stream,
    # which subscribers (and tests/e2e/test_zz_public_events_meet_the_contract.py)
    # hold to carry only signed events.
    conn = connect(os.environ["AMQP_URI"], confirm_publish=True)
    try:
        channel = conn.channel()
        channel.basic_publish(amqp.Message(b'{"not": "a cloudevent"}',
                                           content_type="application/json"),
                              exchange="", routing_key="monitoring.on_notification_event")

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
