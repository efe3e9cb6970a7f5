"""The read models after a batch (``read_model.apply_public_many``: a few multi-row
statements) are those after the same events applied one by one, each in its own
transaction — with events repeated, several events on one row, and rows started by
any of their events."""
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from services.monitoring import read_model
from shared.vocabulary.envelope import Envelope

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "monitoring" / "migrations"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def event(source, kind, data, minutes=0):
    return Envelope(id=str(uuid.uuid4()), type=kind, source=f"/asan/{source}",
                    subject="s", time=T0 + timedelta(minutes=minutes), schemaversion=1,
                    correlationid=str(uuid.uuid4()), data=data)


def day_of_events():
    booking, intent, kiosk = str(uuid.uuid4()), "intent-1", "kiosk-1"
    complaint, ticket, query = (str(uuid.uuid4()) for _ in range(3))
    slot = {"booking_id": booking, "centre": "baku-1", "service": "passport",
            "date": "2026-11-24", "time": "10:15"}
    at = (T0 + timedelta(minutes=1)).isoformat()
    events = [
        event("booking", "CodeConfirmed", slot | {"confirmed_at": at}, 2),  # before its request
        event("booking", "BookingRequested", slot | {"channel": "web", "requested_at": at,
                                                "hold_expires_at": at, "language": "az"}, 1),
        event("booking", "BookingCancelled", {"booking_id": booking, "cancelled_at": at,
                                              "by": "citizen"}, 3),
        event("booking", "BookingRefused", {"refusal_id": query, "channel": "api",
                                            "reasons": [{"code": "slot_taken"}]}, 4),
        event("notification", "EmailCreated", {"intent_id": intent, "template": "t",
                                               "reference": booking, "template_version": 1,
                                               "language": "az", "requested_at": at}, 1),
        event("notification", "EmailTemporaryFailure", {
            "intent_id": intent, "template": "t", "reference": booking, "will_retry": True,
            "smtp_code": 451, "attempt": 1, "detail": "451", "template_version": 1}, 2),
        event("notification", "EmailDelivered", {"intent_id": intent, "template": "t",
                                                 "reference": booking, "attempt": 1,
                                                 "template_version": 1}, 3),
        event("notification", "EmailDelivered", {"intent_id": intent, "template": "t",
                                                 "reference": booking, "attempt": 2,
                                                 "template_version": 1}, 4),
        event("kiosk_gateway", "KioskRegistered", {"kiosk_id": kiosk, "centre": "baku-1"}, 1),
        event("kiosk_gateway", "KioskRevoked", {"kiosk_id": kiosk, "centre": "baku-1"}, 5),
        event("kiosk_gateway", "ActivationRefused", {"kiosk_id": kiosk, "centre": "baku-1",
                                                     "reason": "too_early", "at": at}, 2),
        event("kiosk_gateway", "TicketIssued", {
            "ticket_id": ticket, "centre": "baku-1", "service": "passport",
            "date": "2026-11-24", "series": "booked", "booking_id": booking, "issued_at": at,
            "kiosk_id": kiosk, "number": "B-001", "sequence": 1}, 6),
        event("registry", "FinQueried", {"query_id": query, "asked_at": at, "method": "name",
                                         "outcome": "found", "latency_ms": 3.5,
                                         "channel": "web"}, 1),
        event("complaints", "ComplaintFiled", {
            "complaint_id": complaint, "service": "passport", "channel": "web",
            "filed_on": "2026-11-23", "due_on": "2026-12-08"}, 1),
        event("complaints", "ComplaintAnswered", {
            "complaint_id": complaint, "answered_at": at, "decision": "upheld",
            "late": False, "delivery": "email"}, 2),
    ]
    # Issue 17: the counters' and booking's new events, each table's.
    visit = {"ticket_id": ticket, "centre": "baku-1", "date": "2026-11-24",
             "number": "C-001"}
    events += [
        event("kiosk_gateway", "TicketNoShow", visit | {  # another ticket's end first
            "ticket_id": query, "service": "passport", "counter_id": "c-1", "recalls": 2,
            "at": at}, 9),
        event("kiosk_gateway", "TicketServed", visit | {  # read before its call
            "service": "id_card", "counter_id": "c-2", "called_at": at, "served_at": at}, 9),
        event("kiosk_gateway", "TicketCalled", visit | {
            "service": "passport", "series": "booked", "counter_id": "c-1",
            "counter_name": "C-1", "issued_at": at, "called_at": at, "first_call": True}, 7),
        event("kiosk_gateway", "TicketRecalled", visit | {
            "service": "passport", "counter_id": "c-1", "counter_name": "C-1", "recalls": 1,
            "at": at}, 7),
        event("kiosk_gateway", "TicketTransferred", visit | {
            "from_service": "passport", "to_service": "id_card", "counter_id": "c-1",
            "at": at}, 8),
        event("kiosk_gateway", "TicketNoShow", visit | {  # a second end: the first is kept
            "service": "id_card", "counter_id": "c-2", "recalls": 2, "at": at}, 10),
        event("booking", "BookingRescheduled", slot | {
            "date": "2026-11-25", "previous_date": "2026-11-24", "previous_time": "10:15",
            "rescheduled_at": at}, 5),
        event("booking", "BookingReminded", slot | {"reminded_at": at}, 5),
        event("booking", "BookingReminded", slot | {"reminded_at": T0.isoformat()}, 6),
        event("booking", "CentreClosed", {
            "closure_id": complaint, "centre": "baku-2", "service": None,
            "date": "2026-11-24", "reason": "other", "closed_at": at, "cancelled": 0}, 5),
    ]
    # A refusal with the same id but other data: inserted once, the first one kept.
    events.append(event("booking", "BookingRefused", {"refusal_id": query, "channel": "web",
                                                      "reasons": []}, 7))
    return events + events[:5]  # and some delivered again


def read_models(database_url):
    with psycopg.connect(database_url) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in read_model.READ_MODELS}


def test_a_batch_leaves_the_same_read_models_as_one_event_at_a_time(make_database,
                                                                    monkeypatch):
    events = day_of_events()
    one_by_one, batched, chunked = (make_database(MIGRATIONS) for _ in range(3))
    for envelope in events:
        with psycopg.connect(one_by_one) as conn, conn.transaction():
            read_model.apply_public_many(conn, [envelope])
    with psycopg.connect(batched) as conn, conn.transaction():
        read_model.apply_public_many(conn, events)
    monkeypatch.setattr(read_model, "CHUNK", 2)  # a group split over several statements
    with psycopg.connect(chunked) as conn, conn.transaction():
        read_model.apply_public_many(conn, events)

    expected = read_models(one_by_one)
    assert expected["bookings"][0][1:4] == ("baku-1", "passport", "web")
    assert expected["emails"][0][5] == 2  # the later delivery
    assert expected["booking_refusals"][0][2] == "api"  # the first refusal
    # Each ticket's first end is kept: the served one's later no-show changes nothing.
    assert sorted(row[1] for row in expected["ticket_outcomes"]) == ["no_show", "served"]
    assert expected["booking_reminders"][0][-1] == T0 + timedelta(minutes=1)  # the first
    assert all(expected[table] for table in read_model.READ_MODELS)
    assert read_models(batched) == expected
    assert read_models(chunked) == expected
