"""`make run` brings every service up (make test starts the platform with the very
same script, deploy/bin/run, before the tests): each service and each relay answers
/metrics, and each service's /health says its database is reachable (D-4)."""
import os
import uuid

import pytest
import requests

from shared.runtime.config import SERVICES, service_config

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_answers_health_and_metrics(service):
    address = service_config(service)["WEB_SERVER_ADDRESS"]
    health = requests.get(f"http://{address}/health", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"service": service, "status": "ok",
                             "checks": {"database": "ok"}}
    metrics = requests.get(f"http://{address}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert f'asan_entrypoint_calls_total{{entrypoint="health",outcome="ok",service="{service}"}}' \
        in metrics.text


@pytest.mark.parametrize("service", SERVICES)
def test_each_relay_reports_its_lag(service):
    port = service_config(service)["RELAY_METRICS_PORT"]
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert f'asan_relay_lag_seconds{{service="{service}"}}' in metrics.text
    assert f'asan_outbox_pending{{service="{service}"}}' in metrics.text


def test_unknown_urls_get_the_json_error_format():
    address = service_config("booking")["WEB_SERVER_ADDRESS"]
    response = requests.get(f"http://{address}/no/such/page", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert set(response.json()["message"]) == {"az", "en"}
    assert uuid.UUID(response.headers["X-Correlation-Id"])


def test_a_correlation_id_sent_by_the_caller_is_kept():
    address = service_config("booking")["WEB_SERVER_ADDRESS"]
    mine = str(uuid.uuid4())
    response = requests.get(f"http://{address}/health", headers={"X-Correlation-Id": mine},
                            timeout=10)
    assert response.headers["X-Correlation-Id"] == mine


def test_the_web_pages_answer_health_without_a_database():
    address = service_config("web")["WEB_SERVER_ADDRESS"]
    health = requests.get(f"http://{address}/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["service"] == "web"
    page = requests.get(f"http://{address}/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_make_run_says_ready_only_after_every_service_and_listener_answers():
    """``make run`` (deploy/bin/run, the script ``make test`` starts the platform with,
    writing to ``$ASAN_LOG_DIR/run.log``) prints its addresses, "ready" and "Press
    Ctrl-C" only once deploy/bin/wait-ready has seen every service, the pages and every
    infrastructure listener answer — never while they are still starting."""
    log = os.path.join(os.environ["ASAN_LOG_DIR"], "run.log")
    text = open(log, encoding="utf-8").read()
    answered = text.index("wait-ready: all services healthy and every infrastructure "
                          "listener answers")
    ready = text.index("run: ready: every service answers. Press Ctrl-C to stop everything.")
    assert answered < ready
    assert text.count("Press Ctrl-C") == 1
    for service in SERVICES:
        assert answered < text.index(service_config(service)["WEB_SERVER_ADDRESS"], answered)
