"""D-4: the Prometheus config, recording and alert rules are valid, and each alert
fires exactly when its condition holds (promtool's rule unit tests, no server)."""
import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")


def promtool(*args):
    assert PROMTOOL, "promtool missing: deploy/bin/setup installs Debian's prometheus"
    result = subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_d4_config_and_rules_are_valid():
    out = promtool("check", "config", "prometheus.yml")
    assert "SUCCESS: 2 rule files found" in out


def test_d4_each_alert_fires_when_its_condition_holds_and_not_before():
    promtool("test", "rules", "rules/tests.yml")


@pytest.mark.parametrize("alert", ["RelayLagging", "DeadLettersParked", "ProcessesStuck",
                                   "ComplaintsOverdue", "KiosksNotSeen", "EmailFailureRate",
                                   "FinLookupThrottling", "RequestsRateLimited",
                                   "ProcessCrashed", "ProcessDown"])
def test_d4_the_issue_names_an_alert_and_it_exists_and_is_tested(alert):
    import yaml

    rules = yaml.safe_load((PROMETHEUS / "rules" / "alerts.yml").read_text())
    names = {rule.get("alert") for group in rules["groups"] for rule in group["rules"]}
    assert alert in names
    assert f"alertname: {alert}" in (PROMETHEUS / "rules" / "tests.yml").read_text()
