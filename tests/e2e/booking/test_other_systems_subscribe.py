"""D-3: other government systems subscribe to the events without running our code.

A citizen books, confirms and cancels through the real API; only then does a ministry
arrive. The operator gives it an account (``python -m shared.ops.subscribers add``, as
docs/EVENTS.md "Onboarding a subscriber" says); the ministry's own program
(``ministry_subscriber.py``: pika, jsonschema, cryptography, PyYAML; it refuses to
import any module of ours) catches up on ``booking.events.stream`` over AMQPS from
before the booking, and checks each event's signature against the JWKS the booking
service serves, its gap-free ``sequence`` and its shape against docs/asyncapi.yaml.
It finds the booking's whole public history, in order. The same account may read
nothing private (tests/integration/test_broker_accounts.py).
"""
import base64
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from shared.vocabulary.clock import utcnow
from shared.runtime.config import REPO_ROOT, service_config

from . import ministry_subscriber
from .conftest import book_confirm_and_cancel

pytestmark = pytest.mark.e2e

PROGRAM = Path(ministry_subscriber.__file__)
JWKS_URL = f"http://{service_config('booking')['WEB_SERVER_ADDRESS']}/.well-known/jwks.json"
CA = Path(os.environ.get("ASAN_TLS_DIR", REPO_ROOT / ".state" / "tls")) / "ca.pem"
HISTORY = ["BookingRequested", "CodeConfirmed", "BookingCancelled"]


def _operator(*args):
    """``python -m shared.ops.subscribers …`` as an operator runs it."""
    done = subprocess.run([sys.executable, "-m", "shared.ops.subscribers", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def ministry_account(tmp_path):
    """The account file the operator hands over; revoked after the test."""
    name = f"d3-ministry-{uuid.uuid4().hex[:8]}"
    account = tmp_path / "account.json"
    account.write_text(_operator("add", name))
    yield account
    _operator("revoke", name)


def _book_confirm_and_cancel():
    """A booking's whole public life through the API; its subject, ``booking-<id>``."""
    _, booking_id = book_confirm_and_cancel()
    return f"booking-{booking_id}"


def test_d3_a_ministry_catches_up_on_a_bookings_events_with_none_of_our_code(
        ministry_account, tmp_path):
    since = utcnow() - timedelta(seconds=2)
    subject = _book_confirm_and_cancel()
    done = subprocess.run(
        [sys.executable, str(PROGRAM), str(ministry_account), str(CA),
         str(REPO_ROOT / "docs" / "asyncapi.yaml"), JWKS_URL, since.isoformat(), subject,
         *HISTORY], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert [event["type"] for event in result["subject_events"]] == HISTORY
    sequences = [event["sequence"] for event in result["subject_events"]]
    assert sequences == sorted(sequences)
    first, last = result["sequences"]
    assert result["checked"] == last - first + 1 >= len(HISTORY)  # none skipped


def test_d3_the_ministrys_checks_refuse_a_forged_event_and_our_code():
    """What the program above relies on: a signature that is not the service's fails,
    and so does any import of ours."""
    with urllib.request.urlopen(JWKS_URL, timeout=10) as answer:
        jwks = json.load(answer)
    header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "EdDSA", "kid": jwks["keys"][0]["kid"]}).encode()).rstrip(b"=").decode()
    forged = base64.urlsafe_b64encode(bytes(64)).rstrip(b"=").decode()
    body = f'{{"specversion":"1.0","type":"BookingCancelled","sequence":"00000000000000000001",' \
           f'"signature":"{header}..{forged}"}}'.encode()
    with pytest.raises(InvalidSignature):
        ministry_subscriber.verify(body, jwks)
    refused = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "import ministry_subscriber as m; sys.meta_path.insert(0, m.RefuseOurCode()); "
         "import shared", str(PROGRAM.parent)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "runs none of our code" in refused.stderr
