"""Tickets and the activation window (Q-7, Q-8), pure."""
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.booking import domain
from services.booking.service import ACTIVATION_REFUSALS, activation_answer
from shared.vocabulary.clock import BAKU
from services.kiosk_gateway.tickets import Ticket, call_order, layout, ticket_number

WINDOW = domain.Window(early=timedelta(minutes=30), grace=timedelta(minutes=10))


def confirmed(at="10:15"):
    return domain.Booking(booking_id="b-1", status="confirmed", centre="baku-1",
                          service="passport", day=date(2026, 11, 24),
                          time=time.fromisoformat(at), version=2)


def at(clock):
    return datetime.fromisoformat(f"2026-11-24T{clock}").replace(tzinfo=BAKU)


def outcome(booking, centre, now):
    """What booking's RPC answers the kiosk gateway for an activation decided by the
    domain (``service.activation_answer``)."""
    try:
        domain.activate(booking, centre, "k1", now, WINDOW)
    except ACTIVATION_REFUSALS as refused:
        return activation_answer(refused)["outcome"]
    return activation_answer(domain.slot_of(booking))["outcome"]


@pytest.mark.parametrize("clock, expected", [
    ("09:44:59", "too_early"), ("09:45", "activated"), ("10:15", "activated"),
    ("10:25", "activated"), ("10:25:01", "lapsed")])
def test_q7_the_window_opens_30_minutes_before_and_closes_10_after(clock, expected):
    assert outcome(confirmed(), "baku-1", at(clock)) == expected


def test_q7_only_at_the_booked_centre_and_only_a_confirmed_booking():
    assert outcome(confirmed(), "ganja", at("10:00")) == "other_centre"
    for status in ("requested", "cancelled", "lapsed", "void"):
        booking = domain.Booking(**{**confirmed().__dict__, "status": status})
        assert outcome(booking, "baku-1", at("10:00")) == "invalid"


def test_q8_lapse_only_after_the_grace_period():
    assert domain.lapse(confirmed(), at("10:25"), WINDOW) == []
    events = domain.lapse(confirmed(), at("10:26").astimezone(timezone.utc), WINDOW)
    assert events[0].event_type == "BookingLapsed"


def ticket(number="C-017", series="booked", booked="10:15", issued="10:05"):
    return Ticket("t", "baku-1", date(2026, 11, 24), number, int(number[-3:]), series,
                  "passport", "b" if series == "booked" else None,
                  time.fromisoformat(booked) if booked else None, "k1", at(issued))


def test_numbers_have_the_service_prefix_and_walk_ins_their_own_series():
    assert ticket_number("B", "booked", 17) == "B-017"
    assert ticket_number("B", "walk_in", 3) == "BW-003"


def test_booked_visitors_go_before_walk_ins_at_the_same_time():
    walk_in = ticket("CW-001", "walk_in", None, "10:15")
    booked_later = ticket("C-002", booked="10:30", issued="10:16")
    booked = ticket("C-001", booked="10:15", issued="10:16")
    assert [t.number for t in call_order([walk_in, booked_later, booked])] == \
        ["C-001", "CW-001", "C-002"]


@pytest.mark.parametrize("width", [32, 48])
def test_the_printed_ticket_fits_the_printer(width):
    lines = layout(ticket(), "Bakı 1 nömrəli ASAN xidmət mərkəzi",
                   "Ümumvətəndaş pasportunun verilməsi / Passport", width)
    assert all(len(line) <= width for line in lines)
    assert any("*** C-017 ***" in line for line in lines)
    assert any("10:15" in line for line in lines)
    folded = layout(ticket(), "Şəki", "Arayış", width, ascii_only=True)
    assert all(line.isascii() for line in folded)
    # issue 23 §5: every weekday's line fits, and says the day as read here
    for offset in range(7):
        day = replace(ticket(), day=ticket().day + timedelta(days=offset))
        printed = layout(day, "Şəki", "Arayış", width)
        assert all(len(line) <= width for line in printed)
        assert any(f"{day.day:%d.%m.%Y} 10:05" in line for line in printed)
    assert "çərşənbə axşamı / Tuesday" in "\n".join(layout(ticket(), "Şəki", "Arayış", width))
