"""D-1, issue 16: the kiosk gateway's tables (kiosks, ticket_counters, tickets) are
the fold of its event log. After a day at the kiosks — kiosks registered, rotated and
revoked, tickets booked and walked in (some at once), a repeat, wrong codes until the
kiosk was slowed down, heartbeats — ``shared.ops.rebuild`` rebuilds them from the events
and finds them equal to the live ones; a row changed behind the events' back is
found, and ``--apply`` puts it right (heartbeats, telemetry, are not touched)."""
import eventlet
import psycopg
import pytest
import requests

from shared.ops.rebuild import rebuild

from .conftest import ADMIN

pytestmark = pytest.mark.integration


def test_d1_after_a_day_at_the_kiosks_the_tables_are_the_fold_of_the_events(start_stack):
    stack = start_stack(gateway_config={"FREE_FAILURES": 2, "SLOW_DOWN_SECONDS": 1})
    kiosks = [stack.kiosk("baku-1") for _ in range(3)]
    revoked = stack.kiosk("ganja")
    assert requests.post(f"{stack.gateway_url}/admin/kiosks/{revoked['kiosk_id']}/revoke",
                         headers=ADMIN, timeout=10).status_code == 200
    rotated = requests.post(f"{stack.gateway_url}/admin/kiosks/{kiosks[2]['kiosk_id']}/rotate",
                            headers=ADMIN, timeout=10).json()
    codes = [stack.confirmed_booking(at=at)[1] for at in ("10:00", "10:15", "10:15", "10:30")]
    stack.clock.set("2026-11-24", "10:05")
    tokens = [kiosks[0]["token"], kiosks[1]["token"], rotated["token"]]
    for token in tokens:
        requests.post(f"{stack.gateway_url}/kiosk/heartbeat", timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
    pool = eventlet.GreenPool(6)
    answers = list(pool.imap(lambda n: stack.activate(tokens[n % 3], codes[n]), range(3)))
    walk_ins = list(pool.imap(lambda n: requests.post(
        f"{stack.gateway_url}/kiosk/walk-ins", json={"service": "passport"}, timeout=10,
        headers={"Authorization": f"Bearer {tokens[n % 3]}"}), range(3)))
    assert [a.status_code for a in answers + walk_ins] == [200] * 6
    assert stack.activate(tokens[0], codes[0]).status_code == 200  # a repeat
    assert [stack.activate(tokens[1], f"WRNG-ZZZ{n + 2}").status_code
            for n in range(3)] == [404, 404, 429]
    stack.clock.set("2026-11-24", "10:10")
    assert stack.activate(tokens[1], codes[3]).status_code == 200  # clears the count
    assert stack.activate(tokens[2], "WRNG-ZZZ9").status_code == 404  # one left counted
    config = {"DATABASE_URL": stack.gateway_db}

    assert rebuild("kiosk_gateway", config=config) == []

    with psycopg.connect(stack.gateway_db) as conn:
        conn.execute("UPDATE ticket_counters SET last = last + 1 WHERE series = 'passport:walk_in'")
        conn.execute("UPDATE kiosks SET failures = 7 WHERE kiosk_id = %s", (kiosks[0]["kiosk_id"],))
        seen = conn.execute("SELECT count(*) FROM kiosk_heartbeats").fetchone()[0]
    found = {d.table: (d.live_count, d.rebuilt_count)
             for d in rebuild("kiosk_gateway", config=config)}
    assert found == {"ticket_counters": (1, 1), "kiosks": (1, 1)}
    rebuild("kiosk_gateway", apply=True, config=config)
    assert rebuild("kiosk_gateway", config=config) == []
    with psycopg.connect(stack.gateway_db) as conn:
        assert conn.execute("SELECT count(*) FROM kiosk_heartbeats").fetchone()[0] == seen == 3
