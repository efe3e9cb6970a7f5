"""The production reverse proxy (deploy/nginx/asan.conf) in front of the running
platform: one origin for the citizen over TLS, only the public API routes published."""
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from shared.runtime.config import load_config, service_config
from tests.conftest import unused_port
from tests.markers import wait_until

pytestmark = pytest.mark.e2e
CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "asan.conf"
TLS_DIR = Path(os.environ.get("ASAN_TLS_DIR")
               or Path(__file__).resolve().parents[2] / ".state" / "tls")
WEB = load_config(Path(__file__).resolve().parents[2] / "services" / "web" / "config.yaml")


def port_of(config):
    return config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx missing: deploy/bin/setup installs nginx-light"
    folder = tmp_path_factory.mktemp("nginx")
    # The server certificate of the local CA (deploy/bin/infra, as RabbitMQ's AMQPS):
    # the client verifies it against that CA, as a citizen's browser against a real one.
    assert (TLS_DIR / "server.pem").exists(), f"no {TLS_DIR}/server.pem: run deploy/bin/infra up"
    https, http = unused_port(), unused_port()
    conf = CONF.read_text()
    # Only what differs on a test machine: ports, certificate, log and upstream ports.
    conf = conf.replace("listen 443 ssl", f"listen 127.0.0.1:{https} ssl")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{http};")
    conf = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", conf)
    conf = conf.replace("/etc/ssl/asan/fullchain.pem", str(TLS_DIR / "server.pem"))
    conf = conf.replace("/etc/ssl/asan/privkey.pem", str(TLS_DIR / "server-key.pem"))
    conf = conf.replace("/var/log/nginx/asan.access.log", str(folder / "access.log"))
    ports = {"8080": port_of(WEB), "8001": port_of(service_config("booking")),
             "8004": port_of(service_config("registry")),
             "8005": port_of(service_config("complaints"))}
    for default, actual in ports.items():
        conf = conf.replace(f"127.0.0.1:{default};", f"127.0.0.1:{actual};")
    (folder / "asan.conf").write_text(conf)
    (folder / "nginx.conf").write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nworker_processes 1;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
        f" include {folder}/asan.conf;\n}}\n")
    check = subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-g", "daemon off;"], stderr=subprocess.PIPE)
    base = f"https://127.0.0.1:{https}"
    deadline = time.monotonic() + 15
    cert = str(TLS_DIR / "ca.pem")  # verify= the CA: the chain and the name are checked
    while True:
        try:
            requests.get(base + "/", verify=cert, timeout=2)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "nginx did not start"
            time.sleep(0.2)
    yield base, f"http://127.0.0.1:{http}", folder, cert  # TLS is checked, not skipped
    process.terminate()
    process.wait(timeout=10)


def test_one_origin_serves_the_pages_and_the_public_apis_over_tls(proxy):
    base, _, folder, cert = proxy
    page = requests.get(base + "/", verify=cert, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    board = requests.get(base + "/board/quba", verify=cert, timeout=10)  # issue 17 §2
    assert board.status_code == 200 and "Guba ASAN service centre" in board.text
    assert requests.get(base + "/board/quba.json", verify=cert, timeout=10).json()["centre"][
        "code"] == "quba"
    centres = requests.get(base + "/api/booking/centres", verify=cert, timeout=10)
    assert centres.status_code == 200 and any(c["code"] == "baku-1" for c in centres.json())
    refused = requests.post(base + "/api/registry/fin/by-id-card", json={"id_card": "x"},
                            verify=cert, timeout=10)
    assert refused.status_code in (400, 404) and refused.json()["message"]["az"]
    for path in ("/reschedule", "/order-code"):  # issue 17 §5: the pages'
        page = requests.get(base + path, verify=cert, timeout=10)
        assert page.status_code == 200 and 'method="post"' in page.text, path
    # booking's own answer (a malformed code), not the proxy's 404
    visit = requests.post(base + "/api/booking/bookings/visit", json={"order_code": ""},
                          verify=cert, timeout=10)
    assert visit.status_code in (400, 429) and visit.json()["error"] in (
        "validation_failed", "too_many_requests")


def test_staff_and_operations_endpoints_are_not_published(proxy):
    base, plain, _, cert = proxy
    for path in ("/api/booking/operator/bookings", "/api/registry/admin/persons",
                 "/api/complaints/staff/complaints", "/metrics", "/health",
                 "/counter", "/counter/call-next", "/counterfeit"):  # staff: issue 17 §2
        assert requests.get(base + path, verify=cert, timeout=10).status_code == 404, path
    assert requests.post(base + "/counter/call-next", verify=cert,
                         timeout=10).status_code == 404
    redirect = requests.get(plain + "/fin", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")


def test_the_access_log_has_no_query_strings(proxy):
    base, _, folder, cert = proxy
    secret = uuid.uuid4().hex
    assert requests.get(f"{base}/complaint/{secret}?lang=en&ref={secret}", verify=cert,
                        timeout=10).status_code == 404
    # a request after it, by the same worker: once its line is there, so is the first's
    marker = f"/after-{uuid.uuid4().hex}"
    requests.get(base + marker, verify=cert, timeout=10)
    log = wait_until(lambda: marker in (text := (folder / "access.log").read_text()) and text,
                     "the later request's line in the access log")
    assert f'"GET /complaint/{secret}" 404' in log
    assert f"ref={secret}" not in log and "lang=en" not in log
