"""Notification's bounded routes while its hands are full (shared.edge.http,
``HTTP_MAX_PENDING``): one request held on its locked table fills a service that takes
one, and then its document and its keys are refused at once with 503 ``unavailable``
in both languages — while the probes (/health, /live) still answer."""
import hashlib
import threading

import psycopg
import pytest
import requests

from services.notification.service import NotificationService
from shared.runtime.config import service_config
from tests.conftest import unused_port
from tests.markers import wait_until

pytestmark = pytest.mark.integration
TOKEN = "overload-test-token"


def test_a_full_notification_refuses_its_bounded_routes_and_answers_its_probes(
        container_factory, rabbit_config, fresh_database):
    port = unused_port()
    config = dict(service_config("notification"), **rabbit_config,
                  DATABASE_URL=fresh_database, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                  HTTP_MAX_PENDING=1,
                  OPERATOR_TOKEN_SHA256=[hashlib.sha256(TOKEN.encode()).hexdigest()])
    container_factory(NotificationService, config).start()
    url = f"http://127.0.0.1:{port}"
    held = {}
    with psycopg.connect(fresh_database) as conn:
        conn.execute("LOCK TABLE emails IN ACCESS EXCLUSIVE MODE")
        holder = threading.Thread(target=lambda: held.update(answer=requests.get(
            f"{url}/emails/booking-held", timeout=120,
            headers={"Authorization": f"Bearer {TOKEN}"})))
        holder.start()
        wait_until(lambda: conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = 'emails'::regclass"
            " AND NOT granted").fetchone()[0], "the request waiting on the table")
        for path in ("/openapi.json", "/.well-known/jwks.json"):
            answer = requests.get(url + path, timeout=30)
            assert answer.status_code == 503, (path, answer.text)
            body = answer.json()
            assert body["error"] == "unavailable"
            assert body["message"]["az"] and body["message"]["en"]
        for path in ("/health", "/live"):
            assert requests.get(url + path, timeout=30).status_code == 200
        conn.rollback()
    holder.join(timeout=120)
    assert held["answer"].status_code == 200
