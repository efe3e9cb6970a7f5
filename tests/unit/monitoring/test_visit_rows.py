"""Issue 17: the read-model rows the counters' and booking's new public events make
(``read_model.rows``) — what the report's figures are computed from — without a
database: the day a ticket counts on, a transfer then served, a no-show, a closure."""
import uuid
from datetime import datetime, timezone

from services.monitoring import read_model
from shared.vocabulary.envelope import Envelope

TICKET = {"ticket_id": str(uuid.uuid4()), "centre": "baku-1", "date": "2026-11-24",
          "number": "CW-007"}


def envelope(source, kind, data):
    return Envelope(id=str(uuid.uuid4()), type=kind, source=f"/asan/{source}", subject="s",
                    time=datetime(2026, 11, 24, 21, tzinfo=timezone.utc), schemaversion=1,
                    correlationid=str(uuid.uuid4()), data=data)


def test_i17_a_ticket_called_after_baku_midnight_counts_on_its_issue_day():
    called = envelope("kiosk_gateway", "TicketCalled", TICKET | {
        "service": "passport", "series": "walk_in", "counter_id": "c-1",
        "counter_name": "1", "issued_at": "2026-11-24T23:50:00+04:00",
        "called_at": "2026-11-25T00:05:00+04:00", "first_call": True})
    [row] = read_model.rows(called)
    assert (row.table, row.upsert) == ("ticket_calls", False)
    assert row.values["date"] == "2026-11-24" and row.values["first_call"] is True
    assert row.values["event_id"] == called.id  # every call is kept, the first measures


def test_i17_a_transfer_then_served_is_served_in_the_new_service_from_its_call():
    transferred, served = (envelope("kiosk_gateway", kind, TICKET | data) for kind, data in (
        ("TicketTransferred", {"from_service": "passport", "to_service": "id_card",
                               "counter_id": "c-1", "at": "2026-11-24T10:45:00+04:00"}),
        ("TicketServed", {"service": "id_card", "counter_id": "c-2",
                          "called_at": "2026-11-24T10:50:00+04:00",
                          "served_at": "2026-11-24T11:10:00+04:00"})))
    [moved] = read_model.rows(transferred)
    assert (moved.table, moved.values["from_service"], moved.values["to_service"]) == (
        "ticket_transfers", "passport", "id_card")
    [end] = read_model.rows(served)
    assert (end.table, end.key, end.upsert) == ("ticket_outcomes", "ticket_id", False)
    assert end.values | {"ticket_id": None} == {
        "ticket_id": None, "centre": "baku-1", "date": "2026-11-24", "outcome": "served",
        "service": "id_card", "counter_id": "c-2", "called_at": "2026-11-24T10:50:00+04:00",
        "at": "2026-11-24T11:10:00+04:00", "recalls": None}


def test_i17_a_no_show_ends_the_ticket_like_served_with_the_same_columns():
    no_show = envelope("kiosk_gateway", "TicketNoShow", TICKET | {
        "service": "passport", "counter_id": "c-1", "recalls": 2,
        "at": "2026-11-24T16:09:00+04:00"})
    [end] = read_model.rows(no_show)
    assert (end.values["outcome"], end.values["recalls"], end.values["called_at"]) == (
        "no_show", 2, None)
    served = envelope("kiosk_gateway", "TicketServed", TICKET | {
        "service": "passport", "counter_id": "c-1", "called_at": "2026-11-24T16:05:00+04:00",
        "served_at": "2026-11-24T16:09:00+04:00"})
    assert tuple(end.values) == tuple(read_model.rows(served)[0].values)  # one batch group


def test_i17_recalls_and_the_counters_own_events_change_no_figure():
    recalled = envelope("kiosk_gateway", "TicketRecalled", TICKET | {
        "service": "passport", "counter_id": "c-1", "counter_name": "1", "recalls": 1,
        "at": "2026-11-24T16:06:00+04:00"})
    signed_in = envelope("kiosk_gateway", "CounterSignedIn", {
        "counter_id": "c-1", "centre": "baku-1", "name": "1", "services": ["passport"],
        "at": "2026-11-24T09:00:00+04:00"})
    assert read_model.rows(recalled) == read_model.rows(signed_in) == []


def test_i17_a_closure_of_a_whole_centre_has_no_service():
    closed = envelope("booking", "CentreClosed", {
        "closure_id": str(uuid.uuid4()), "centre": "baku-2", "service": None,
        "date": "2026-11-25", "reason": "power_outage",
        "closed_at": "2026-11-24T19:00:00+04:00", "cancelled": 12})
    [row] = read_model.rows(closed)
    assert (row.table, row.values["service"], row.values["cancelled"]) == ("closures", None, 12)
