"""Q-7 from outside: a kiosk activation whose reply was lost on the way back, tried
again much later, on booking and the kiosk gateway in-process (the real PostgreSQL
and RabbitMQ, one clock; ``conftest``).

Booking activated the booking for the kiosk, but the gateway never printed its
ticket (booking's answer came after the gateway's RPC timeout, or the gateway's
transaction failed after booking answered). The same kiosk asking again within the
repeat window gets its ticket: its answer was lost. The same code typed again the
next day is a used code, as it is when its ticket was printed
(``test_a_used_code_repeated_after_the_repeat_window_is_refused``): no ticket."""
import pytest
from nameko.testing.services import entrypoint_hook

pytestmark = pytest.mark.integration


def _activated_without_a_ticket(stack, kiosk, order_code):
    """Booking activates ``order_code`` for ``kiosk`` as the gateway's RPC asks it;
    its answer never reaches a ticket."""
    with entrypoint_hook(stack.booking_container, "activate") as activate:
        answer = activate(order_code, kiosk["centre"], kiosk["kiosk_id"])
    assert answer["outcome"] == "activated", answer


def test_q7_a_lost_reply_asked_again_within_the_repeat_window_prints_the_ticket(stack):
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    _activated_without_a_ticket(stack, kiosk, code)
    stack.clock.set("2026-11-24", "10:07")
    again = stack.activate(kiosk["token"], code)
    assert again.status_code == 200, again.text


def test_q7_a_used_code_without_a_ticket_typed_again_the_next_day_prints_none(stack):
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    _activated_without_a_ticket(stack, kiosk, code)
    stack.clock.set("2026-11-25", "10:05")  # a day later
    again = stack.activate(kiosk["token"], code)
    assert again.status_code == 404, again.text
    assert again.json()["error"] == "invalid_code"


def _tickets(stack):
    import psycopg
    with psycopg.connect(stack.gateway_db) as conn:
        return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


def test_q7_one_code_at_two_kiosks_and_twice_at_one_all_at_once_prints_one_ticket(stack):
    """The same order code sent at once by two kiosks of the centre, each twice (a
    double press): one ticket; the kiosk that printed it shows the same ticket to its
    repeat; the other kiosk is refused as for a used code; never a 500."""
    import eventlet
    first, second = stack.kiosk("baku-1"), stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    senders = [first, first, second, second] * 2
    answers = list(eventlet.GreenPool(8).imap(
        lambda kiosk: (kiosk["kiosk_id"], stack.activate(kiosk["token"], code)), senders))
    assert all(a.status_code in (200, 404) for _, a in answers), [a.text for _, a in answers]
    printed = {a.json()["ticket_id"] for _, a in answers if a.status_code == 200}
    assert len(printed) == 1 and _tickets(stack) == 1
    winners = {kiosk for kiosk, a in answers if a.status_code == 200}
    assert len(winners) == 1
