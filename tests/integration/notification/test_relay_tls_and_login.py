"""Mail as production sends it: STARTTLS and a login (deploy/k8s/base/config.yaml:
``SMTP_STARTTLS``, port 587; ``SMTP_USER``/``SMTP_PASSWORD`` from the Secret
``asan-notification``). The code and the order code reach the citizen only through
this relay (Q-2, Q-4).

The notification service runs as ``nameko run`` runs it in production, in a process
of its own, reading its own ``services/notification/config.yaml`` with the settings
in its environment (the production ConfigMap's ``SMTP_STARTTLS`` and ``MAIL_FROM``,
the relay's address, the login); the real broker and database. The relay is a real
SMTP server on 127.0.0.1: deploy/mailsink.py (aiosmtpd, a dependency already: the
sink of ``make run``) in its production mode, requiring STARTTLS before MAIL and AUTH
before MAIL, with the server certificate the local CA signed ($ASAN_TLS_DIR,
deploy/bin/infra); the service trusts that CA (``SMTP_CA_FILE``) and nothing else.

* delivered: read back from the server, which received it over TLS, logged in;
* a wrong password: nothing delivered; a technical failure (the relay refused *us*,
  not the citizen's address: an operator fixes the secret), tried again until the
  email's ``deliver_by``, then final (``will_retry`` false, docs/OPERATIONS.md
  "Email"); the password in no log line, event or row;
* a certificate our CA did not sign, and a server that offers no STARTTLS (but would
  take the login and the mail in clear): refused before a login or a message is
  sent, the same technical failure; never a fall-back to plain text.
"""
import base64
import json
import os
import re
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from nameko.testing.rabbit import Client

from shared.vocabulary.clock import utcnow
from shared.runtime.config import REPO_ROOT
from tests.conftest import unused_port
from tests.integration.notification.emails import (email_state, events_of, given_up, request,
                                                   send, wait_for_events)

pytestmark = pytest.mark.integration

TLS_DIR = Path(os.environ.get("ASAN_TLS_DIR", REPO_ROOT / ".state" / "tls"))
LOCAL_CA = TLS_DIR / "ca.pem"
SIGNED_BY_LOCAL_CA = (TLS_DIR / "server.pem", TLS_DIR / "server-key.pem")
PRODUCTION = yaml.safe_load((REPO_ROOT / "deploy" / "k8s" / "base" / "config.yaml")
                            .read_text("utf-8"))["data"]
USER = "asan-notification"
# As a password generator makes them: what YAML would read as a comment, a mapping,
# an alias or a number must reach the relay as it is.
PASSWORD = f"0700 #{uuid.uuid4().hex[:12]}: *&!{{["
# The email's queue: the service is ready for a request once it consumes from it.
QUEUE = "notification.on_booking_email"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def stranger_certificate(tmp_path_factory):
    """(certificate, key) for localhost and 127.0.0.1 as the local stack's server
    certificate is, but signed by a CA of its own, which nobody trusts."""
    folder = tmp_path_factory.mktemp("stranger-ca")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=Stranger CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", "ca-key.pem", "-out", "ca.pem", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "server-key.pem", "-out", "server.csr", cwd=folder)
    (folder / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
             "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "ext",
             cwd=folder)
    return folder / "server.pem", folder / "server-key.pem"


@pytest.fixture
def notification_process(tmp_path, rabbit_config, fresh_database, request):
    """``notification_process(sink, password=PASSWORD)`` starts the service against
    ``sink`` and returns its log file once it consumes email requests; killed after
    the test."""
    started = []
    manager = Client(request.config.getoption("RABBIT_API_URI"))

    def start(sink, password=PASSWORD):
        port, log = unused_port(), tmp_path / f"notification-{len(started)}.log"
        env = dict(
            os.environ, ASAN_LOG_DIR="", AMQP_URI=rabbit_config["AMQP_URI"],
            NOTIFICATION_DATABASE_URL=fresh_database, NOTIFICATION_PORT=str(port),
            SMTP_STARTTLS=PRODUCTION["SMTP_STARTTLS"], MAIL_FROM=PRODUCTION["MAIL_FROM"],
            SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_CA_FILE=str(LOCAL_CA),
            SMTP_USER=USER, SMTP_PASSWORD=password, SMTP_TIMEOUT="5",
            # The schedule scaled down to tenths of a second: the failure becomes final
            # within the test, after several tries.
            EMAIL_RETRY_SCHEDULE_SECONDS="[0.2]", EVENT_REDELIVERY_DELAYS_MS="[200]",
            EVENT_RETRY_DELAYS_MS="[100, 200]")
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [str(REPO_ROOT / ".venv" / "bin" / "nameko"), "run", "--config",
                 str(REPO_ROOT / "services" / "notification" / "config.yaml"),
                 "services.notification.service:NotificationService"],
                cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        started.append(process)
        deadline = time.monotonic() + 60
        while not _consuming(manager, rabbit_config["vhost"], port):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        return log

    yield start
    for process in started:
        process.kill()
        process.wait()


def _consuming(manager, vhost, port):
    try:
        healthy = requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok
        return healthy and manager.get_queue(vhost, QUEUE)["consumers"] >= 1
    except (requests.RequestException, KeyError):
        return False  # not up yet, or its queue not declared yet


def _request_to(name, seconds_to_live=600):
    """A code email request for a fresh address whose ``deliver_by`` (the hold's end,
    as booking sets it) is ``seconds_to_live`` away."""
    return request(f"{name}-{uuid.uuid4().hex[:8]}@example.az",
                   deliver_by=utcnow() + timedelta(seconds=seconds_to_live))


def _assert_given_up_as_a_technical_failure(database, message):
    """Tried more than once (it is retryable), then final: nothing was delivered."""
    intent = message.data["intent_id"]
    events = wait_for_events(database, intent, given_up, timeout=60)
    assert given_up(events), events
    failures = [data for kind, data in events[1:]]
    assert [kind for kind, _ in events] == \
        ["EmailCreated"] + ["EmailTechnicalFailure"] * len(failures), events
    assert len(failures) > 1 and all(f["will_retry"] for f in failures[:-1])
    (status, attempts), _ = email_state(database, intent)
    assert (status, attempts) == ("technical-failure", len(failures))
    return failures


def _secrets_in(text, password=PASSWORD):
    """The password as it is, and as AUTH PLAIN and LOGIN would carry it."""
    shapes = (password, base64.b64encode(f"\0{USER}\0{password}".encode()).decode(),
              base64.b64encode(password.encode()).decode())
    return [shape for shape in shapes if shape in text]


def _logins_tried(sink):
    """The server's log lines of each AUTH it was asked for (deploy/mailsink.py)."""
    return re.findall(r"AUTH \S+ for .*", sink.log.read_text())


def _everything_recorded(database):
    with psycopg.connect(database, autocommit=True) as conn:
        return json.dumps([conn.execute("SELECT * FROM events").fetchall(),
                           conn.execute("SELECT * FROM emails").fetchall()], default=str)


def test_q2_a_code_email_goes_over_starttls_logged_in_with_the_password_as_it_is(
        own_mail_sink, notification_process, rabbit_config, fresh_database):
    assert PRODUCTION["SMTP_STARTTLS"] == "true"  # what the service runs with here
    sink = own_mail_sink(tls=SIGNED_BY_LOCAL_CA, login=(USER, PASSWORD))
    log = notification_process(sink)
    message = _request_to("leyla")
    send(rabbit_config["AMQP_URI"], message)
    state, types = email_state(fresh_database, message.data["intent_id"])
    assert (state, types) == (("delivered", 1), ["EmailCreated", "EmailDelivered"]), \
        (events_of(fresh_database, message.data["intent_id"]), log.read_text()[-3000:])

    [mail] = sink.messages_to(message.data["to"])
    assert mail["X-Session-TLS"] in ("TLSv1.2", "TLSv1.3")  # the server's record of it
    assert mail["X-Session-Login"] == USER
    assert mail["From"] == PRODUCTION["MAIL_FROM"]
    assert "042517" in mail.get_body(("plain",)).get_content()
    assert _secrets_in(log.read_text()) == []


def test_a_wrong_password_delivers_nothing_and_is_retried_as_a_technical_failure(
        own_mail_sink, notification_process, rabbit_config, fresh_database):
    sink = own_mail_sink(tls=SIGNED_BY_LOCAL_CA, login=(USER, PASSWORD))
    wrong = f"wrong {uuid.uuid4().hex[:12]} #: *&"
    log = notification_process(sink, password=wrong)
    message = _request_to("leyla", seconds_to_live=6)
    send(rabbit_config["AMQP_URI"], message)

    failures = _assert_given_up_as_a_technical_failure(fresh_database, message)
    assert {f["smtp_code"] for f in failures} == {535}  # the relay refused the login
    assert list(sink.mail_dir.iterdir()) == []  # nothing reached the server
    tried = _logins_tried(sink)  # it was asked, over TLS, and said no
    assert tried and all(line.endswith(f"{USER}: refused") for line in tried), tried
    for text in (log.read_text(), _everything_recorded(fresh_database)):
        assert _secrets_in(text, wrong) == [] and _secrets_in(text) == []


def test_a_certificate_our_ca_did_not_sign_is_refused_before_the_login(
        own_mail_sink, notification_process, rabbit_config, fresh_database,
        stranger_certificate):
    sink = own_mail_sink(tls=stranger_certificate, login=(USER, PASSWORD))
    notification_process(sink)
    message = _request_to("leyla", seconds_to_live=6)
    send(rabbit_config["AMQP_URI"], message)

    failures = _assert_given_up_as_a_technical_failure(fresh_database, message)
    assert all("CERTIFICATE_VERIFY_FAILED" in f["detail"] for f in failures), failures
    assert list(sink.mail_dir.iterdir()) == []  # nothing reached the server
    assert _logins_tried(sink) == []  # the password never went out


def test_a_relay_that_offers_no_starttls_is_refused_never_used_in_clear(
        own_mail_sink, notification_process, rabbit_config, fresh_database):
    # This one would take the login and the mail over the plain connection.
    sink = own_mail_sink(login=(USER, PASSWORD))
    notification_process(sink)
    message = _request_to("leyla", seconds_to_live=6)
    send(rabbit_config["AMQP_URI"], message)

    failures = _assert_given_up_as_a_technical_failure(fresh_database, message)
    assert all("STARTTLS" in f["detail"] for f in failures), failures
    assert list(sink.mail_dir.iterdir()) == []  # nothing reached the server
    assert _logins_tried(sink) == []

