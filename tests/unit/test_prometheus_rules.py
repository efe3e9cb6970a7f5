"""D-4: the Prometheus and Alertmanager configs that `make prometheus` writes, and the
recording and alert rules, are valid (promtool, amtool), and each alert fires exactly
when its condition holds, from a series that starts absent (promtool's rule unit
tests, no server)."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")


def promtool(*args):
    assert PROMTOOL, "promtool missing: deploy/bin/setup installs Debian's prometheus"
    result = subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_d4_config_and_rules_are_valid(tmp_path, monkeypatch):
    from shared.ops import alerting

    monkeypatch.setenv("BOOKING_RELAY_PORT", "47001")
    monkeypatch.setenv("SCALE", "2")
    prometheus_yml, alertmanager_yml = alerting.write(tmp_path)
    out = promtool("check", "config", str(prometheus_yml))
    assert "SUCCESS: 2 rule files found" in out
    # The ports are the environment's (deploy/env.sh), every relay instance of SCALE.
    relays = yaml.safe_load(prometheus_yml.read_text())["scrape_configs"][1]
    booking = next(group for group in relays["static_configs"]
                   if group["labels"]["service"] == "booking")
    assert booking["targets"] == ["127.0.0.1:47001", "127.0.0.1:47101"]
    assert AMTOOL, "amtool missing: deploy/bin/setup installs prometheus-alertmanager"
    checked = subprocess.run([AMTOOL, "check-config", str(alertmanager_yml)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, \
        checked.stdout + checked.stderr


def test_d4_each_alert_fires_when_its_condition_holds_and_not_before():
    promtool("test", "rules", "rules/tests.yml")


@pytest.mark.parametrize("alert", ["RelayLagging", "DeadLettersParked", "ProcessesStuck",
                                   "ComplaintsOverdue", "KiosksNotSeen", "EmailFailureRate",
                                   "FinLookupThrottling", "RequestsRateLimited",
                                   "ProcessCrashed", "ProcessDown"])
def test_d4_the_issue_names_an_alert_and_it_exists_and_is_tested(alert):
    rules = yaml.safe_load((PROMETHEUS / "rules" / "alerts.yml").read_text())
    names = {rule.get("alert") for group in rules["groups"] for rule in group["rules"]}
    assert alert in names
    assert f"alertname: {alert}" in (PROMETHEUS / "rules" / "tests.yml").read_text()
