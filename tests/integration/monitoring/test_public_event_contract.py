"""Every public event of a whole day on the real platform, read as an outside system
reads it (D-3; issue 23 §1, §3): a queue of its own bound with ``#`` to every
``<service>.events`` exchange before anything happens, then the day — bookings made,
refused (no centre, no service), confirmed, voided, expired, moved, cancelled by the
citizen and by a closure, reminded, lapsed, an order code reissued; kiosks and
counters registered, rotated and revoked; activations, refused ones and walk-ins;
calls, recalls, a transfer, a no-show, services; emails delivered and failed; FIN
lookups; complaints filed, answered, withdrawn, approaching and past their deadline;
control reports on demand and daily. Each message body is then checked

- against its message schema in docs/asyncapi.yaml by an independent JSON Schema
  validator (``jsonschema``, every ``$ref`` resolved; tests/event_contract.py): the
  old document's ``nullable`` refused every walk-in ticket, refusal without a centre
  and report without a scope;
- by the CloudEvents Python SDK, whose ``sequence`` is the Sequence extension's string:
  per service gap-free in arrival order, and sorting by it as strings gives that order.

The whole platform runs in-process (tests/integration/monitoring/conftest.py) on the
real PostgreSQL, RabbitMQ and SMTP sink with every relay, on a clock the test moves:
visits at their time need bookings made the day before (Q-1, Q-7), which the running
stack's real clock cannot give one test."""
import json
import time
import uuid

import eventlet
import pika
import psycopg
import pytest
import requests
from nameko.testing.services import entrypoint_hook

from services.booking.events import CATALOG as BOOKING
from services.complaints.events import CATALOG as COMPLAINTS
from services.kiosk_gateway.events import CATALOG as KIOSK
from services.monitoring.events import CATALOG as MONITORING
from services.notification.events import CATALOG as NOTIFICATION
from services.registry.events import CATALOG as REGISTRY
from shared.runtime.amqp import events_exchange_name
from shared.vocabulary.envelope import format_sequence
from tests.event_contract import Contract, cloudevent
from tests.integration.registry.test_lookup import PEOPLE, populate
from tests.mailbox import confirmation_code, order_code, wait_for_mail

from .test_a_day_at_the_centre import DAY2, Desk, scripted_day, walk_in

pytestmark = pytest.mark.integration

CATALOGS = {catalog.service: catalog
            for catalog in (BOOKING, NOTIFICATION, KIOSK, REGISTRY, COMPLAINTS, MONITORING)}
DAY3 = "2026-11-25"  # a Wednesday
QUEUE = "sub.contract-check.all"
# Public types the day does not make, and why: each of them is covered by the unit
# test of null fields or needs what one test cannot give (a population file loaded
# by the command line).
NOT_REACHED = {"registry.PopulationImported"}


def _post(platform, service, path, body=None, staff=False, headers=None,
          expect=(200, 201, 202)):
    answer = requests.post(platform.url(service, path), json=body, timeout=30,
                           headers=platform.auth(service) if staff else headers)
    assert answer.status_code in expect, (path, answer.status_code, answer.text)
    return answer.json() if answer.content else None


def _subscribe(amqp_uri):
    """The outside system's queue, bound to every public exchange before the day."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.queue_declare(QUEUE, durable=True)
    for service in CATALOGS:
        channel.exchange_declare(events_exchange_name(service), "topic", durable=True,
                                 auto_delete=False)
        channel.queue_bind(QUEUE, events_exchange_name(service), routing_key="#")
    connection.close()


def _stored_public(platform):
    """How many public events each service has stored."""
    counts = {}
    for service, catalog in CATALOGS.items():
        public = [kind.name for kind in catalog if kind.is_public]
        with psycopg.connect(platform.databases[service]) as conn:
            counts[service] = conn.execute(
                "SELECT count(*) FROM events WHERE event_type = ANY(%s)", (public,)).fetchone()[0]
    return counts


def _drain(amqp_uri, platform, timeout=90):
    """Every message of the queue, as (properties, body), once the outbox of every
    service is empty and the queue holds as many as the services stored."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    messages, deadline = [], time.monotonic() + timeout
    try:
        while True:
            method, properties, body = channel.basic_get(QUEUE, auto_ack=True)
            if method is not None:
                messages.append((properties, body))
                continue
            seen = {service: 0 for service in CATALOGS}
            for _, body in messages:
                seen[json.loads(body)["source"].removeprefix("/asan/")] += 1
            if seen == _stored_public(platform):
                eventlet.sleep(0.5)  # nothing more on the way: the same again after a while
                if channel.queue_declare(QUEUE, passive=True).method.message_count == 0 \
                        and seen == _stored_public(platform):
                    return messages
            assert time.monotonic() < deadline, f"received {seen}, stored" \
                                                f" {_stored_public(platform)}"
            eventlet.sleep(0.3)
    finally:
        connection.close()


def _wait_for_email_event(platform, intent, event_type, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(platform.databases["notification"]) as conn:
            if conn.execute("SELECT 1 FROM events WHERE stream_id = %s AND event_type = %s",
                            (f"email-{intent}", event_type)).fetchone():
                return
        assert time.monotonic() < deadline, f"no {event_type} of {intent}"
        eventlet.sleep(0.1)


def _hook(platform, service, entrypoint):
    with entrypoint_hook(platform.containers[service], entrypoint) as run:
        return run()


def _booking(platform, day, at, **form):
    """A booking requested and confirmed; returns (form, order code)."""
    data = platform.form(day=day, at=at, **form)
    booking_id = _post(platform, "booking", "/bookings", data)["booking_id"]
    code = confirmation_code(wait_for_mail(data["email"], "booking_confirmation_code"))
    _post(platform, "booking", f"/bookings/{booking_id}/confirm", {"code": code})
    return data, order_code(wait_for_mail(data["email"], "booking_order_code"))


def the_rest_of_the_week(platform):
    """What the scripted day of test_a_day_at_the_centre leaves out."""
    clock = platform.clock
    clock.set(DAY2, "11:00")
    # A form without a centre or a service we know: BookingRefused with both null.
    platform.refused_form(centre="atlantis", service="")
    # Five wrong codes: four CodeRejected, then BookingVoided.
    voided, voided_email = platform.request_booking(day=DAY3, at="10:00")
    code = confirmation_code(wait_for_mail(voided_email, "booking_confirmation_code"))
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(5):
        requests.post(platform.url("booking", f"/bookings/{voided}/confirm"),
                      json={"code": wrong}, timeout=10)
    # A code email that stops being true while the relay refuses it (the sink greylists
    # its first 50 tries): the hold is cancelled by a closure of its day, so the next try
    # supersedes it (EmailSuperseded) instead of sending a code of no use.
    untrue, _ = platform.request_booking(centre="baku-3", day=DAY3, at="10:00",
                                         email=f"greylist50-{uuid.uuid4().hex[:8]}@example.az")
    _wait_for_email_event(platform, f"{untrue}:confirmation-code", "EmailTemporaryFailure")
    _post(platform, "booking", "/admin/closures", {"centre": "baku-3", "service": None,
                                                   "date": DAY3, "reason": "other"},
          staff=True, expect=(201,))
    _wait_for_email_event(platform, f"{untrue}:confirmation-code", "EmailSuperseded")
    # Cancelled by the citizen; an order code reissued; a reminder of tomorrow.
    _, cancel_code = _booking(platform, DAY3, "10:15")
    _post(platform, "booking", "/bookings/cancel", {"order_code": cancel_code})
    lost, _ = _booking(platform, DAY3, "10:30")
    _post(platform, "booking", "/bookings/order-code",
          {"id_card": lost["id_card"], "email": lost["email"], "date": DAY3})
    clock.set(DAY2, "18:00")
    assert _hook(platform, "booking", "send_reminders")
    # Emails that fail: for good (550), again and again until of no use (451), a
    # connection dropped; one more hold that lapses unconfirmed.
    held = [platform.request_booking(day=DAY3, at=at, email=f"{prefix}-{uuid.uuid4().hex[:8]}"
                                     "@example.az")
            for at, prefix in (("11:00", "refuse-perm"), ("11:15", "refuse-temp"),
                               ("11:30", "drop"))]
    eventlet.sleep(2)  # a few tries on the notification's short schedule
    clock.set(DAY2, "18:20")  # the holds are past their 15 minutes: no more tries
    assert _hook(platform, "booking", "sweep_holds") >= len(held)
    # The visit of 10:30 on day 3 is never activated: lapsed.
    clock.set(DAY3, "12:00")
    assert _hook(platform, "booking", "sweep_lapses")

    # Kiosks and counters: a refused activation, a walk-in, credentials rotated and
    # revoked, a counter signing out.
    clock.set(DAY3, "12:05")
    kiosk = _post(platform, "kiosk_gateway", "/admin/kiosks", {"centre": "baku-1"}, staff=True)
    token = {"Authorization": f"Bearer {kiosk['token']}"}
    _post(platform, "kiosk_gateway", "/kiosk/activations", {"order_code": "ABCD-EFGH"},
          headers=token, expect=(404,))
    walk_in(platform, kiosk["token"], service="id_card")
    _post(platform, "kiosk_gateway", f"/admin/kiosks/{kiosk['kiosk_id']}/rotate", staff=True)
    _post(platform, "kiosk_gateway", f"/admin/kiosks/{kiosk['kiosk_id']}/revoke", staff=True)
    desk = Desk(platform, "3")
    desk.act("sign-in", services=["id_card"])
    desk.call()
    desk.act("served")
    desk.act("sign-out")
    counter = _post(platform, "kiosk_gateway", "/admin/counters",
                    {"centre": "baku-1", "name": "4"}, staff=True)
    _post(platform, "kiosk_gateway", f"/admin/counters/{counter['counter_id']}/rotate",
          staff=True)
    _post(platform, "kiosk_gateway", f"/admin/counters/{counter['counter_id']}/revoke",
          staff=True)

    # FIN lookups: found by ID card and by name, not found, a malformed card.
    populate(platform.urls["registry"])
    _post(platform, "registry", "/fin/by-id-card", {"id_card": PEOPLE[0][6]})
    _post(platform, "registry", "/fin/by-id-card", {"id_card": "AZE19999999"}, expect=(404,))
    _post(platform, "registry", "/fin/by-id-card", {"id_card": "12"}, expect=(400,))
    _, name, surname, patronymic, _, born, _ = PEOPLE[2]
    _post(platform, "registry", "/fin/by-name", {"name": name, "surname": surname,
                                                 "patronymic": patronymic, "birth_date": born})

    # Complaints: answered, withdrawn, and one left to its deadline (C-3).
    complaint = {"service": "queue_booking", "text": "Kiosk bileti çap etmədi.",
                 "name": "Leyla", "patronymic": "Əli qızı", "surname": "Məmmədova",
                 "address": "Bakı, Nizami küç. 1", "email": "complainant@example.az"}
    filed = [_post(platform, "complaints", "/complaints", dict(complaint, text=f"Şikayət {n}."))
             for n in range(3)]
    first = filed[0]["complaint_id"]
    _post(platform, "complaints", f"/staff/complaints/{first}/assign",
          {"reviewer": "R. Əliyev"}, staff=True)
    _post(platform, "complaints", f"/staff/complaints/{first}/answer",
          {"decision": "resolved", "answer": "Düzəldildi."}, staff=True)
    _post(platform, "complaints", "/complaints/withdraw", {"reference": filed[1]["reference"]})
    clock.set("2026-12-22", "09:00")
    _hook(platform, "complaints", "check_deadlines")  # approaching
    clock.set("2026-12-29", "09:00")
    _hook(platform, "complaints", "check_deadlines")  # overdue

    # Control reports: on demand for the whole platform (no centre, no service), daily.
    _post(platform, "monitoring", "/reports/control", {"day": DAY2}, staff=True)
    _hook(platform, "monitoring", "daily_report")


def test_every_public_event_of_a_week_meets_its_message_schema_and_the_sequence_extension(
        start_platform, rabbit_config):
    platform = start_platform(notification_config={
        "EMAIL_RETRY_SCHEDULE_SECONDS": [0.2], "EVENT_REDELIVERY_DELAYS_MS": [100, 200]})
    amqp_uri = rabbit_config["AMQP_URI"]
    _subscribe(amqp_uri)
    scripted_day(platform)
    the_rest_of_the_week(platform)
    messages = _drain(amqp_uri, platform)

    contract = Contract()
    failures, by_service, seen = [], {}, set()
    for properties, body in messages:
        assert properties.content_type == "application/cloudevents+json"
        event = json.loads(body)
        failures += contract.errors(event)
        parsed = cloudevent(body, properties.content_type, properties.headers)
        assert (parsed.get_id(), parsed.get_type()) == (event["id"], event["type"])
        service = parsed.get_source().removeprefix("/asan/")
        by_service.setdefault(service, []).append(parsed.get_extension("sequence"))
        seen.add(f"{service}.{event['type']}")
    assert failures == [], "\n".join(failures)

    # The cases the old document refused are among them.
    events = [json.loads(body) for _, body in messages]
    assert any(e["type"] == "TicketIssued" and e["data"]["series"] == "walk_in"
               and e["data"]["booking_id"] is None for e in events)
    assert any(e["type"] == "BookingRefused" and e["data"]["centre"] is None
               and e["data"]["service"] is None for e in events)
    assert any(e["type"] == "ControlReportGenerated" and e["data"]["centre"] is None
               for e in events)
    # Every public type of every service was published, but those said not to be.
    public = {f"{service}.{kind.name}" for service, catalog in CATALOGS.items()
              for kind in catalog if kind.is_public}
    assert public - seen == NOT_REACHED, sorted(public - seen)

    # sequence: the extension's string; per service 1, 2, 3… in the order they came,
    # which is also their order as strings.
    for service, sequences in by_service.items():
        assert all(isinstance(sequence, str) for sequence in sequences), service
        assert sequences == [format_sequence(n) for n in range(1, len(sequences) + 1)], service
        assert sorted(sequences) == sequences
