"""Real events, verified as a ministry would (D-3, issue 23 §2): a booking made on the
running platform, its events read from RabbitMQ by a plain pika client, and their
bytes as delivered checked with PyJWT, jwcrypto, Node's ``jose`` and ``cryptography``
— the code docs/EVENTS.md shows — and with ``python -m shared.ops.verify``, against the
JWKS each service serves, several services' keys in one set. What the CloudEvents
SDK writes back from such an event verifies with none of them."""
import base64
import json
import os
import subprocess
import sys
import time
import uuid

import pika
import pytest
import requests
from cloudevents.core.formats.json import JSONFormat

from shared.runtime.config import service_config
from tests.verifiers import PYTHON_VERIFIERS, REPO, verify_with_node_jose

from .conftest import form, post

pytestmark = pytest.mark.e2e
AMQP_URI = os.environ["AMQP_URI"]  # the administrator's, from deploy/env.sh
SERVICES = os.environ.get("ASAN_SERVICES", "booking notification kiosk_gateway registry"
                          " complaints monitoring").split()


def _jwks(service):
    answer = requests.get(f"http://{service_config(service)['WEB_SERVER_ADDRESS']}"
                          "/.well-known/jwks.json", timeout=10)
    assert answer.status_code == 200, service
    return answer.json()


def _header(body):
    token = json.loads(body)["signature"]
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


@pytest.fixture
def delivered():
    """The bodies, as delivered, of the public events of one booking request (booking's
    BookingRequested, notification's events of its email) and of one refused form."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    channel = connection.channel()
    queue = f"outside-system-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, exclusive=True)
    for exchange in ("booking.events", "notification.events"):
        channel.queue_bind(queue, exchange, routing_key="#")
    booking_id = post("/bookings", form()).json()["booking_id"]
    assert post("/bookings", dict(form(), email="broken@")).status_code == 400
    bodies, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        method, _, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            types = {json.loads(b)["type"] for b in bodies}
            if {"BookingRequested", "BookingRefused", "EmailCreated"} <= types:
                break
            time.sleep(0.1)
            continue
        if booking_id in body.decode("utf-8") or b'"BookingRefused"' in body:
            bodies.append(body)
    connection.close()
    return bodies


def test_real_events_verify_with_pyjwt_jwcrypto_node_jose_and_cryptography(delivered, tmp_path):
    keys = {service: _jwks(service) for service in SERVICES}
    for service, jwks in keys.items():
        for jwk in jwks["keys"]:
            assert (jwk["kty"], jwk["crv"], jwk["use"]) == ("OKP", "Ed25519", "sig"), jwk
            assert jwk["alg"] in ("EdDSA", "Ed25519") and "d" not in jwk, jwk
            assert jwk["kid"].split("-")[0] == service, jwk
    merged = {"keys": [jwk for jwks in keys.values() for jwk in jwks["keys"]]}
    types = {json.loads(body)["type"] for body in delivered}
    assert {"BookingRequested", "BookingRefused", "EmailCreated"} <= types, types
    for body in delivered:
        header = _header(body)
        assert header["alg"] == "EdDSA"  # the name every library here knows
        (jwk,) = [jwk for jwk in merged["keys"] if jwk["kid"] == header["kid"]]
        assert jwk["alg"] == "EdDSA"  # the JWKS says so: Node's jose and PyJWT need it
        for library, verify in PYTHON_VERIFIERS.items():
            assert verify(body, merged)["id"] == json.loads(body)["id"], library
    status, lines = verify_with_node_jose(delivered, merged, tmp_path)
    assert (status, lines) == (0, [f"ok {json.loads(body)['id']}" for body in delivered])
    (tmp_path / "booking.json").write_text(json.dumps(keys["booking"]))
    (tmp_path / "notification.json").write_text(json.dumps(keys["notification"]))
    ours = subprocess.run([sys.executable, "-m", "shared.ops.verify", "--jwks",
                           str(tmp_path / "booking.json"), "--jwks",
                           str(tmp_path / "notification.json"), "-"], cwd=REPO,
                          input=b"".join(body + b"\n" for body in delivered),
                          capture_output=True, timeout=60)
    assert ours.returncode == 0, ours.stdout.decode() + ours.stderr.decode()
    assert ours.stdout.decode().count("ok ") == len(delivered)


def test_a_real_event_written_back_by_the_cloudevents_sdk_verifies_nowhere(delivered, tmp_path):
    merged = {"keys": [jwk for service in ("booking", "notification")
                       for jwk in _jwks(service)["keys"]]}
    body = next(body for body in delivered if json.loads(body)["type"] == "BookingRequested")
    event = JSONFormat().read(None, body)  # the SDK reads our events as they are
    assert event.get_attributes()["source"] == "/asan/booking"
    written = JSONFormat().write(event)
    assert written != body
    for library, verify in PYTHON_VERIFIERS.items():
        with pytest.raises(Exception):
            verify(written, merged)
        assert verify(body, merged)["id"] == event.get_id(), library
    status, lines = verify_with_node_jose([body, written], merged, tmp_path)
    assert status == 1 and lines[0].startswith("ok ") and lines[1].startswith("FAILED line 2")
