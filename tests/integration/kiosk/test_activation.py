"""Q-7, Q-8, D-5: activation at the kiosk, its window, its refusals, the ticket."""
from unittest import mock

import eventlet
import psycopg
import pytest
import requests

from services.booking.service import BookingService
from services.kiosk_gateway import domain, read_model
from services.kiosk_gateway.events import CATALOG
from shared.vocabulary.dates import day_text

from .conftest import ADMIN

pytestmark = pytest.mark.integration


def test_q7_activation_inside_the_window_prints_a_ticket_and_a_repeat_gets_the_same(stack):
    kiosk = stack.kiosk("baku-1")
    booking_id, order_code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    first = stack.activate(kiosk["token"], order_code)
    assert first.status_code == 200, first.text
    ticket = first.json()
    assert ticket["number"] == "C-001"  # passport tickets are C
    assert ticket["booked_time"] == "10:15" and ticket["centre"]["code"] == "baku-1"
    for width in ("32", "48"):
        lines = ticket["print"][width].splitlines()
        assert max(len(line) for line in lines) <= int(width)
        assert any("C-001" in line for line in lines)
    repeat = stack.activate(kiosk["token"], order_code.lower())  # the answer was lost
    assert repeat.json() == ticket
    assert stack.booking_events(booking_id)[-1] == "BookingActivated"


def test_refusals(stack):
    kiosk = stack.kiosk("baku-1")
    neighbour = stack.kiosk("baku-1")  # another kiosk of the same centre
    other = stack.kiosk("ganja")
    _, early = stack.confirmed_booking(at="11:00")
    _, used = stack.confirmed_booking(at="10:15")
    _, late = stack.confirmed_booking(at="09:30")
    _, mine = stack.confirmed_booking(at="10:30")
    cancelled_id, cancelled = stack.confirmed_booking(at="10:45")
    assert requests.post(f"{stack.booking_url}/bookings/cancel", json={"order_code": cancelled},
                         timeout=10).status_code == 200
    stack.clock.set("2026-11-24", "10:10")
    assert stack.activate(kiosk["token"], used).status_code == 200

    def refused(token, code):
        response = stack.activate(token, code)
        return response.status_code, response.json()["error"], response.json()["message"]["en"]

    def refused_az(token, code):
        return stack.activate(token, code).json()["message"]["az"]

    # the error name the OpenAPI document promises (it said "conflict" before)
    assert refused(other["token"], mine)[:2] == (409, "other_centre")
    assert "another centre" in refused(other["token"], mine)[2]
    assert refused(None, mine)[:2] == (401, "unauthorized")
    assert refused(f"{kiosk['kiosk_id']}.wrong-secret", mine)[:2] == (401, "unauthorized")
    status, error, message = refused(kiosk["token"], early)
    # issue 23 §5: "too early" says from when on which day, in both languages
    assert (status, error) == (409, "too_early") and \
        f"from 10:30 on {day_text('2026-11-24', 'en')}" in message
    assert f"{day_text('2026-11-24', 'az')}, saat 10:30" in refused_az(kiosk["token"], early)
    assert refused(kiosk["token"], late)[:2] == (410, "lapsed")
    invalid = (404, "invalid_code")
    assert refused(kiosk["token"], "ZZZZ-ZZZZ")[:2] == invalid  # unknown
    assert refused(neighbour["token"], used)[:2] == invalid  # used
    assert refused(kiosk["token"], cancelled)[:2] == invalid  # cancelled
    assert refused(kiosk["token"], "ZZZZ-ZZZZ")[2] == refused(neighbour["token"], used)[2]

    requests.post(f"{stack.gateway_url}/admin/kiosks/{kiosk['kiosk_id']}/revoke", headers=ADMIN,
                  timeout=10)
    assert refused(kiosk["token"], mine)[:2] == (401, "unauthorized")  # revoked
    assert "BookingActivated" not in stack.booking_events(cancelled_id)


def test_q8_a_booking_not_activated_in_time_has_lapsed(stack):
    kiosk = stack.kiosk("baku-1")
    booking_id, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:26")  # grace is 10 minutes
    assert stack.activate(kiosk["token"], code).status_code == 410
    assert stack.booking_events(booking_id)[-1] == "BookingLapsed"


def test_a_used_code_repeated_after_the_repeat_window_is_refused(stack):
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:00")
    assert stack.activate(kiosk["token"], code).status_code == 200
    stack.clock.set("2026-11-24", "10:11")
    assert stack.activate(kiosk["token"], code).status_code == 404


def test_twenty_concurrent_activations_at_one_centre_get_twenty_consecutive_numbers(start_stack):
    stack = start_stack(booking_config={"ACTIVATION_EARLY_MINUTES": 180})
    kiosks = [stack.kiosk("baku-1")["token"] for _ in range(4)]
    times = [f"{9 + n // 4}:{(n % 4) * 15:02d}".zfill(5) for n in range(12)]
    codes = [stack.confirmed_booking(at=times[n // 2])[1] for n in range(20)]
    stack.clock.set("2026-11-24", "09:05")
    pool = eventlet.GreenPool(20)
    answers = list(pool.imap(lambda n: stack.activate(kiosks[n % 4], codes[n]), range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    numbers = sorted(int(a.json()["number"].split("-")[1]) for a in answers)
    assert numbers == list(range(1, 21))


def test_q7_an_activation_run_again_after_a_lost_race_asks_booking_once(stack):
    """``ServiceDatabase.run`` runs a command again when it lost a race — here its
    ticket number was taken meanwhile, as when two kiosks print the day's first
    ticket at once (the first run decides on a stale count of the series). The run
    again decides on booking's first answer: booking is asked once, and the ticket is
    the next number."""
    kiosk = stack.kiosk("baku-1")
    _, first = stack.confirmed_booking(at="10:15")
    _, second = stack.confirmed_booking(at="10:30")
    stack.clock.set("2026-11-24", "10:05")
    assert stack.activate(kiosk["token"], first).json()["number"] == "C-001"
    counted, runs = read_model.last_ticket, []

    def stale_on_the_first_run(conn, *args):
        runs.append(args)
        return 0 if len(runs) == 1 else counted(conn, *args)

    with mock.patch.object(read_model, "last_ticket", side_effect=stale_on_the_first_run), \
            mock.patch.object(BookingService, "activate", autospec=True,
                              side_effect=BookingService.activate) as asked:
        answer = stack.activate(kiosk["token"], second)
    assert answer.status_code == 200, answer.text
    assert len(runs) == 2  # the race was lost once, and the command ran again
    assert answer.json()["number"] == "C-002"
    assert asked.call_count == 1


def test_walk_ins_have_their_own_series_and_go_after_booked_visitors_at_the_same_time(stack):
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:15")
    headers = {"Authorization": f"Bearer {kiosk['token']}"}
    walk_in = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                            headers=headers, timeout=10)
    assert walk_in.status_code == 200 and walk_in.json()["number"] == "CW-001"
    booked = stack.activate(kiosk["token"], code)
    assert booked.json()["number"] == "C-001"
    queue = requests.get(f"{stack.gateway_url}/kiosk/queue", headers=headers, timeout=10).json()
    assert [t["number"] for t in queue["queue"]] == ["C-001", "CW-001"]


def throttles(stack, kiosk_id):
    """``(the kiosk's row, the fold of its events by domain.evolve_throttle)``: the
    throttle the gateway keeps, and the one rule applied to what it recorded."""
    with psycopg.connect(stack.gateway_db) as conn:
        row = domain.Throttle(*conn.execute(
            "SELECT failures, blocked_until FROM kiosks WHERE kiosk_id = %s",
            (kiosk_id,)).fetchone())
        folded = domain.Throttle()
        for event_type, data in conn.execute(
                "SELECT event_type, data FROM events WHERE data->>'kiosk_id' = %s"
                " ORDER BY tx, global_position", (kiosk_id,)):
            folded = domain.evolve_throttle(folded, CATALOG.read(event_type, data))
    return row, folded


def test_repeated_wrong_codes_slow_a_kiosk_down(start_stack):
    stack = start_stack(gateway_config={"FREE_FAILURES": 3, "SLOW_DOWN_SECONDS": 60})
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    assert [stack.activate(kiosk["token"], f"WRNG-ZZZ{n + 2}").status_code for n in range(3)] == \
        [404] * 3
    slowed = stack.activate(kiosk["token"], code)  # even the right code waits now
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    row, folded = throttles(stack, kiosk["kiosk_id"])
    assert row == folded and row.failures == 3 and row.blocked_until is not None
    stack.clock.set("2026-11-24", "10:06:01")
    assert stack.activate(kiosk["token"], code).status_code == 200
    assert throttles(stack, kiosk["kiosk_id"]) == (domain.Throttle(),) * 2  # cleared


def test_a_rotated_credential_replaces_the_old_one(stack):
    kiosk = stack.kiosk("baku-1")
    rotated = requests.post(f"{stack.gateway_url}/admin/kiosks/{kiosk['kiosk_id']}/rotate",
                            headers=ADMIN, timeout=10).json()
    heartbeat = f"{stack.gateway_url}/kiosk/heartbeat"
    assert requests.post(heartbeat, headers={"Authorization": f"Bearer {kiosk['token']}"},
                         timeout=10).status_code == 401
    assert requests.post(heartbeat, headers={"Authorization": f"Bearer {rotated['token']}"},
                         timeout=10).status_code == 200
    assert requests.post(f"{stack.gateway_url}/admin/kiosks", json={"centre": "baku-1"},
                         timeout=10).status_code == 401  # admin needs its token


def test_q7_issue12_a_malformed_code_is_a_400_and_not_a_wrong_code(start_stack):
    """A malformed code names no booking: refused by the gateway's schema before
    booking is asked, it never counts towards slowing the kiosk down."""
    stack = start_stack(gateway_config={"FREE_FAILURES": 2, "SLOW_DOWN_SECONDS": 60})
    kiosk = stack.kiosk("baku-1")
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    for malformed in ("WRNG-001", "K7M2-QX4", "ABCD-EFGH-J", "", "ABCD-EFGI"):
        answer = stack.activate(kiosk["token"], malformed)
        assert answer.status_code == 400, answer.text
        assert answer.json()["reasons"][0]["field"] == "order_code"
    with psycopg.connect(stack.gateway_db) as conn:
        assert conn.execute("SELECT failures FROM kiosks WHERE kiosk_id = %s",
                            (kiosk["kiosk_id"],)).fetchone()[0] == 0
    assert stack.activate(kiosk["token"], code).status_code == 200  # not slowed down


def test_q7_issue12_the_order_code_in_full_width_or_arabic_indic_digits(stack):
    full_width = {str(n): chr(0xFF10 + n) for n in range(10)}
    arabic_indic = {str(n): chr(0x0660 + n) for n in range(10)}
    kiosk = stack.kiosk("baku-1")
    _, first = stack.confirmed_booking(at="10:15")
    _, second = stack.confirmed_booking(at="10:30")
    stack.clock.set("2026-11-24", "10:05")
    typed = "".join(full_width.get(c, chr(ord(c) + 0xFEE0)) for c in first)  # Ｋ７Ｍ２－…
    assert stack.activate(kiosk["token"], typed).status_code == 200
    typed = " " + "".join(arabic_indic.get(c, c) for c in second).lower()
    assert stack.activate(kiosk["token"], typed).status_code == 200


@pytest.mark.parametrize("day, at, expected", [
    ("2026-11-24", "00:02", "closed now"),   # Tuesday in Baku, still Monday 20:02 in UTC
    ("2026-11-23", "23:59", "closed now"),   # Monday in Baku, 19:59 UTC
    ("2026-11-24", "08:59", "closed now"),
    ("2026-11-29", "10:00", "closed today"),  # a Sunday
])
def test_a_walk_in_ticket_only_while_the_centre_is_open_on_baku_time(stack, day, at, expected):
    """Issue 12 §3: walk-in tickets were printed at 00:02; the hours are Baku hours."""
    kiosk = stack.kiosk("baku-1")
    headers = {"Authorization": f"Bearer {kiosk['token']}"}
    stack.clock.set(day, at)
    refused = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                            headers=headers, timeout=10)
    assert refused.status_code == 409 and refused.json()["error"] == "centre_closed"
    assert expected in refused.json()["message"]["en"]
    stack.clock.set("2026-11-24", "09:00")
    opened = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                           headers=headers, timeout=10)
    assert opened.status_code == 200 and opened.json()["number"].startswith("CW-")


def test_issue17_the_activation_and_walk_in_answers_carry_the_escpos_ticket(stack):
    """§7: the kiosk sends the answer's ``escpos`` (base64) to its 80 mm printer as it
    is: the number and the centre in the text, the number in the QR code."""
    import base64

    from tests.unit.kiosk.test_escpos_ticket import printed_text, qr_payload
    kiosk = stack.kiosk("baku-1")
    _, order_code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:05")
    headers = {"Authorization": f"Bearer {kiosk['token']}"}
    booked = stack.activate(kiosk["token"], order_code).json()
    walk_in = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"},
                            headers=headers, timeout=10).json()
    for ticket in (booked, walk_in):
        data = base64.b64decode(ticket["escpos"])
        assert qr_payload(data) == ticket["number"]
        text = " ".join(printed_text(data).split())  # a long name wraps
        assert ticket["number"] in text
        assert ticket["centre"]["az"].replace("ə", "ä") in text
