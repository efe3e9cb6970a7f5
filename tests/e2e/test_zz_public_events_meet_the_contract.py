"""Every public event the running platform has published, as an outside system's own
tools read it (D-3; issue 23 §1, §3). A short day of the citizen's and the staff's on
the real clock — a form refused with no centre or service, a booking confirmed and
cancelled, a walk-in when the centre is open, a FIN lookup, a complaint, a control
report for the whole platform — then every event of every ``<service>.events.stream``
from the first retained one, which holds what every earlier test of the run published
too (named ``zz`` to run after them), is checked:

- against its message schema in docs/asyncapi.yaml by a JSON Schema validator
  (``jsonschema``; tests/event_contract.py);
- its Ed25519 signature against the JWKS its service serves;
- by the CloudEvents Python SDK: ``sequence`` the Sequence extension's string, gap-free
  in stream order, and that order is the strings' order.

The same check over a scripted week on a test clock (activations and counters need
one): tests/integration/monitoring/test_public_event_contract.py."""
import json
import os
import time
import uuid
from datetime import datetime

import pytest
import requests

from examples.catch_up_subscriber import stream_events
from shared.runtime.amqp import stream_name
from shared.vocabulary.clock import BAKU
from shared.runtime.config import SERVICES, service_config
from shared.vocabulary.envelope import sequence_number
from shared.runtime.signatures import verify_event
from tests.event_contract import Contract, cloudevent
from tests.mailbox import wait_for_mail
from tests.population import a_loaded_person

from .booking.conftest import book_confirm_and_cancel, form, post

pytestmark = pytest.mark.e2e
AMQP_URI = os.environ["AMQP_URI"]  # the administrator's, from deploy/env.sh


def url(service, path):
    return f"http://{service_config(service)['WEB_SERVER_ADDRESS']}{path}"


def a_short_day():
    """What the real clock allows; returns the ids of events it must have published."""
    refused = post("/bookings", dict(form(), centre="atlantis", service=""))
    assert refused.status_code == 400, refused.text
    data, booking_id = book_confirm_and_cancel()
    wait_for_mail(data["email"], "booking_cancelled")

    admin = {"Authorization": "Bearer admin-dev-token"}
    kiosk = requests.post(url("kiosk_gateway", "/admin/kiosks"), json={"centre": "baku-1"},
                          headers=admin, timeout=10).json()
    walk_in = requests.post(url("kiosk_gateway", "/kiosk/walk-ins"), json={"service": "passport"},
                            headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30)
    assert walk_in.status_code in (200, 409), walk_in.text  # 409: the centre is closed now
    requests.post(url("kiosk_gateway", f"/admin/kiosks/{kiosk['kiosk_id']}/revoke"),
                  headers=admin, timeout=10)

    _, card = a_loaded_person()
    assert requests.post(url("registry", "/fin/by-id-card"), json={"id_card": card},
                         timeout=10).status_code == 200
    email = f"complainant-{uuid.uuid4().hex[:10]}@example.az"
    filed = requests.post(url("complaints", "/complaints"), timeout=10, json={
        "service": "queue_booking", "text": "Növbə saytı açılmadı.", "name": "Rəşad",
        "patronymic": "Elçin oğlu", "surname": "Hüseynzadə", "address": "Gəncə, Atatürk pr. 5",
        "email": email})
    assert filed.status_code == 201, filed.text
    wait_for_mail(email, "complaint_acknowledged")
    report = requests.post(url("monitoring", "/reports/control"), timeout=60,
                           headers={"Authorization": "Bearer monitoring-dev-token"},
                           json={"day": datetime.now(BAKU).date().isoformat()})
    assert report.status_code == 201, report.text
    return {"booking": booking_id, "complaint": filed.json()["complaint_id"],
            "report": report.json()["report_id"]}


def read_stream(service, idle_seconds=5, at_most_seconds=120):
    """(stream offset, body) of every event in the service's stream, oldest first, until
    it has been idle for ``idle_seconds`` (or, on a platform that keeps publishing, for
    ``at_most_seconds`` in all)."""
    events, deadline = [], time.monotonic() + at_most_seconds
    try:
        for offset, body in stream_events(AMQP_URI, stream_name(service), "first",
                                          idle_seconds=idle_seconds):
            events.append((offset, body))
            if time.monotonic() > deadline:
                break
    except TimeoutError:
        pass
    return events


def test_every_published_event_meets_its_schema_its_signature_and_the_sequence_extension():
    did = a_short_day()
    contract = Contract()
    failures, everything = [], []
    for service in SERVICES:
        jwks = requests.get(url(service, "/.well-known/jwks.json"), timeout=10).json()
        events = read_stream(service)
        numbers, strings = [], []
        for offset, body in events:
            event = json.loads(body)
            everything.append(event)
            failures += contract.errors(event)
            verify_event(body, jwks)
            parsed = cloudevent(body)
            assert parsed.get_source() == f"/asan/{service}" and parsed.get_id() == event["id"]
            sequence = parsed.get_extension("sequence")
            numbers.append(sequence_number(sequence))
            if isinstance(sequence, str):
                strings.append(sequence)
            else:  # contract 1: only events a stack kept from before, then none after
                assert not strings, f"{service}: an integer sequence after string ones"
        # gap-free in stream order (a copy published again after a relay crash is the
        # same event with the same number: skipped, as a subscriber does)
        assert strings, f"{service}: no event with the Sequence extension's string"
        distinct = [n for i, n in enumerate(numbers) if i == 0 or n > numbers[i - 1]]
        assert distinct == list(range(distinct[0], distinct[0] + len(distinct))), service
        assert sorted(strings) == strings, service
    assert failures == [], "\n".join(failures[:50])

    subjects = {event["subject"] for event in everything}
    assert {f"booking-{did['booking']}", f"complaint-{did['complaint']}",
            f"report-{did['report']}"} <= subjects
    refusals = [event for event in everything if event["type"] == "BookingRefused"]
    assert any(e["data"]["centre"] is None and e["data"]["service"] is None for e in refusals)
    reports = [event for event in everything if event["type"] == "ControlReportGenerated"]
    assert any(e["data"]["centre"] is None for e in reports)
