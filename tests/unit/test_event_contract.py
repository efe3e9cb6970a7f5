"""The event contract as a JSON Schema validator reads it (D-3; issue 23 §1):
docs/asyncapi.yaml's message schemas are JSON Schema — a field that may be null says
so in its ``type`` (no OpenAPI ``nullable``, which a validator does not know and reads
as "never null") — and every public event the catalogues can make, null fields
included, conforms to its message. The same check over every event of a whole day on
the real platform: tests/integration/monitoring/test_public_event_contract.py."""
import uuid
from datetime import datetime, timezone

import pytest
import yaml

from services.booking.events import CATALOG as BOOKING
from services.kiosk_gateway.events import CATALOG as KIOSK
from services.monitoring.events import CATALOG as MONITORING
from services.notification.events import CATALOG as NOTIFICATION
from shared.ops import asyncapi
from shared.vocabulary.envelope import format_sequence
from tests.event_contract import Contract

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)


def published(catalog, name, data, sequence=1):
    """The event as its relay publishes it: public data, then sequence and signature."""
    envelope = catalog.new(name, f"{name.lower()}-1", data, str(uuid.uuid4()), time=NOW)
    return dict(envelope.with_data(catalog.public_form(envelope)).to_dict(),
                sequence=format_sequence(sequence), signature="eyJhbGciOiJFZDI1NTE5In0..c2ln")


FAILURES = {"code_email_not_delivered": 0, "order_code_email_not_delivered": 0,
            "emails_failed": 0, "complaints_overdue": 0, "dead_letters": 0}
# Every type with a field that may be null, with it null: each was refused by the old
# document (issue 23 §1: 10 of 85 real events of a day).
WITH_NULLS = [
    (BOOKING, "BookingRefused", {"refusal_id": str(uuid.uuid4()), "channel": "web",
                                 "refused_at": NOW.isoformat(), "centre": None,
                                 "service": None,
                                 "reasons": [{"field": None, "code": "centre_closed"}]}),
    (BOOKING, "BookingCancelled", {"booking_id": str(uuid.uuid4()), "by": "citizen",
                                   "cancelled_at": NOW.isoformat(), "closure_id": None}),
    (BOOKING, "CentreClosed", {"closure_id": str(uuid.uuid4()), "centre": "baku-1",
                               "service": None, "date": "2026-11-25", "reason": "other",
                               "closed_at": NOW.isoformat(), "cancelled": 0}),
    (KIOSK, "TicketIssued", {"ticket_id": str(uuid.uuid4()), "centre": "baku-1",
                             "date": "2026-11-24", "number": "AW-001", "sequence": 1,
                             "series": "walk_in", "service": "passport", "booking_id": None,
                             "booked_time": None, "kiosk_id": "k-1",
                             "issued_at": NOW.isoformat()}),
    (MONITORING, "ControlReportGenerated", {
        "report_id": str(uuid.uuid4()), "day": "2026-11-24", "trigger": "on_demand",
        "centre": None, "service": None, "as_of": NOW.isoformat(), "failures": FAILURES,
        "href": "/reports/x"}),
    (NOTIFICATION, "EmailCreated", {"intent_id": "b:code", "template": "booking_code",
                                    "template_version": 1, "reference": "booking-b",
                                    "language": "az", "requested_at": NOW.isoformat(),
                                    "deliver_by": None}),
    (NOTIFICATION, "EmailTechnicalFailure", {
        "intent_id": "b:code", "template": "booking_code", "template_version": 1,
        "reference": "booking-b", "attempt": 1, "will_retry": False,
        "retry_in_seconds": None, "smtp_code": None, "detail": "connection refused"}),
]


def _keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def test_the_document_has_no_openapi_only_keyword():
    document = yaml.safe_load(asyncapi.DOCUMENT.read_text("utf-8"))
    assert not {"nullable", "x-nullable"} & set(_keys(document))


@pytest.mark.parametrize("catalog,name,data", WITH_NULLS, ids=[case[1] for case in WITH_NULLS])
def test_an_event_with_null_fields_meets_its_message_schema(catalog, name, data):
    assert Contract().errors(published(catalog, name, data)) == []


def test_the_validator_refuses_what_breaks_the_contract():
    """The check above can fail: a wrong type, a missing attribute, an unknown type,
    a malformed uuid, a data field of the wrong type are each reported."""
    contract = Contract()
    _, name, data = WITH_NULLS[3]
    good = published(KIOSK, name, data)
    assert contract.errors(good) == []
    broken = [
        dict(good, booking_id=None, data=dict(good["data"], booking_id=42)),
        {key: value for key, value in good.items() if key != "signature"},
        dict(good, type="TicketPrinted"),
        dict(good, id="not-a-uuid"),
        dict(good, data=dict(good["data"], series="vip")),
        dict(good, data={key: value for key, value in good["data"].items()
                         if key != "ticket_id"}),
        dict(good, time="24.11.2026 10:00"),
    ]
    for event in broken:
        assert contract.errors(event), event


def test_the_document_says_nullable_the_json_schema_way():
    document = yaml.safe_load(asyncapi.DOCUMENT.read_text("utf-8"))
    issued = document["components"]["messages"]["kiosk_gateway.TicketIssued"]
    data = issued["payload"]["allOf"][1]["properties"]["data"]["properties"]
    assert data["booking_id"]["type"] == ["string", "null"]
    assert data["booked_time"]["type"] == ["string", "null"]
    assert data["service"]["type"] == "string"  # never null: not widened
