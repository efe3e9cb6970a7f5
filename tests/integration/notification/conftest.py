"""A mail sink of the test's own (deploy/mailsink.py on a free port, writing to a
temporary folder), for what the shared sink cannot be asked to do: play a relay
without SMTPUTF8, count greylisting refusals from zero, or play the production relay
that requires STARTTLS and a login."""
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unused_port
from tests.mailbox import messages_to

SINK = Path(__file__).resolve().parents[3] / "deploy" / "mailsink.py"


@dataclass
class Sink:
    port: int
    mail_dir: Path
    log: Path  # the sink's own log (its stdout and stderr)

    @property
    def config(self):
        """The notification service's SMTP settings for this sink."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TIMEOUT": 5,
                "MAIL_FROM": "ASAN xidmət <no-reply@asan.gov.az>"}

    def messages_to(self, recipient):
        return messages_to(recipient, self.mail_dir)


def _listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def own_mail_sink(tmp_path):
    """``own_mail_sink(smtputf8=True, greylist_refusals=4, tls=None, login=None,
    refuse_while=None)`` starts a sink; ``tls``: ``(certificate, key)`` PEM paths,
    STARTTLS offered and required; ``login``: ``(user, password)``, AUTH required;
    ``refuse_while``: a path, every recipient refused (451) while it exists
    (deploy/mailsink.py).
    Each is stopped (SIGTERM) after the test."""
    started = []

    def start(smtputf8=True, greylist_refusals=4, tls=None, login=None, refuse_while=None):
        port, mail_dir = unused_port(), tmp_path / f"mail-{len(started)}"
        mail_dir.mkdir()
        log = tmp_path / f"mailsink-{len(started)}.log"
        env = dict(os.environ, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
                   ASAN_MAIL_DIR=str(mail_dir), MAILSINK_SMTPUTF8=str(smtputf8).lower(),
                   MAILSINK_GREYLIST_REFUSALS=str(greylist_refusals))
        if tls:
            env.update(MAILSINK_TLS_CERT=str(tls[0]), MAILSINK_TLS_KEY=str(tls[1]))
        if login:
            env.update(MAILSINK_USER=login[0], MAILSINK_PASSWORD=login[1])
        if refuse_while:
            env.update(MAILSINK_REFUSE_WHILE=str(refuse_while))
        with open(log, "wb") as output:
            process = subprocess.Popen([sys.executable, str(SINK)], env=env,
                                       stdout=output, stderr=subprocess.STDOUT)
        started.append(process)
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert process.poll() is None, "the mail sink did not start"
            assert time.monotonic() < deadline, "the mail sink is not listening"
            time.sleep(0.05)
        return Sink(port, mail_dir, log)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)
