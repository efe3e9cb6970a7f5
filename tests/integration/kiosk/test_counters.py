"""Issue 17 §1 on the real stack (PostgreSQL, RabbitMQ, booking over RPC): counters
sign in, call next (booked visitors at their time ahead of walk-ins, then by
arrival), recall, record a no-show only after the recalls, transfer keeping the
place, serve; two counters calling at the same moment never get one ticket; the
board shows numbers and counter names; every act is an event (M-2)."""
import eventlet
import psycopg
import pytest
import requests
from prometheus_client import REGISTRY

from shared.ops.rebuild import rebuild

from .conftest import ADMIN

pytestmark = pytest.mark.integration


class Desk:
    """A counter of the stack, driven over HTTP with its own token."""

    def __init__(self, stack, centre="baku-1", name="5"):
        self.url = stack.gateway_url
        answer = requests.post(f"{self.url}/admin/counters", headers=ADMIN, timeout=10,
                               json={"centre": centre, "name": name})
        assert answer.status_code == 201, answer.text
        self.counter_id, self.name = answer.json()["counter_id"], name
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}

    def post(self, action, **body):
        return requests.post(f"{self.url}/counter/{action}", json=body or None,
                             headers=self.headers, timeout=30)

    def sign_in(self, *services):
        answer = self.post("sign-in", services=list(services))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def call(self):
        """The number called, or None when nobody waits."""
        answer = self.post("call-next")
        if answer.status_code == 404:
            assert answer.json()["error"] == "nobody_waiting"
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()["current"]["number"]


def walk_in(stack, token, service="passport"):
    answer = requests.post(f"{stack.gateway_url}/kiosk/walk-ins", json={"service": service},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["number"]


def events(stack, *types):
    with psycopg.connect(stack.gateway_db) as conn:
        return [row[0] for row in conn.execute(
            "SELECT data FROM events WHERE event_type = ANY(%s) ORDER BY global_position",
            (list(types),))]


def test_two_counters_calling_at_the_same_moment_never_get_the_same_ticket(stack):
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "10:05")
    numbers = [walk_in(stack, kiosk["token"]) for _ in range(24)]
    desks = [Desk(stack, name=str(n)) for n in range(1, 5)]
    for desk in desks:
        desk.sign_in("passport")
    called = {desk.name: [] for desk in desks}

    def work(desk):
        while (number := desk.call()) is not None:
            called[desk.name].append(number)
            assert desk.post("served").status_code == 200

    pool = eventlet.GreenPool(len(desks))
    list(pool.imap(work, desks))
    every_call = [number for numbers_of in called.values() for number in numbers_of]
    assert sorted(every_call) == sorted(numbers), called  # each once, none left
    assert sum(1 for calls in called.values() if calls) > 1  # they did call side by side
    assert len(events(stack, "TicketCalled")) == len(events(stack, "TicketServed")) == 24


def _sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_call_order_recall_no_show_transfer_and_served_with_the_board(stack):
    waited = _sample("asan_ticket_waiting_seconds_sum", centre="baku-1", service="passport")
    waits = _sample("asan_ticket_waiting_seconds_count", centre="baku-1", service="passport")
    served = _sample("asan_ticket_service_seconds_count", centre="baku-1", service="id_card")
    booked = [stack.confirmed_booking(at=at)[1] for at in ("10:00", "10:30")]
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "09:50")
    early_walk_in = walk_in(stack, kiosk["token"])
    stack.clock.set("2026-11-24", "10:01")
    tickets = [stack.activate(kiosk["token"], code).json()["number"] for code in booked]
    desk, other = Desk(stack, name="5"), Desk(stack, name="6")

    assert desk.post("call-next").json()["error"] == "not_signed_in"
    view = desk.sign_in("passport")
    assert view["signed_in"] and view["waiting"]["passport"] == 3 and view["current"] is None
    # the 09:50 walk-in goes first: booked visitors are called at their time
    assert desk.call() == early_walk_in
    assert desk.post("call-next").json()["error"] == "ticket_in_progress"
    assert desk.post("sign-out").json()["error"] == "ticket_in_progress"
    assert desk.post("no-show").json()["error"] == "recall_first"
    assert [desk.post("recall").json()["current"]["recalls"] for _ in range(2)] == [1, 2]
    assert desk.post("recall").json()["error"] == "recalls_exhausted"
    assert other.post("served").json()["error"] == "no_current_ticket"  # not its ticket
    assert desk.post("no-show").json()["current"] is None

    assert desk.call() == tickets[0]
    answer = desk.post("transfer", service="id_card")
    assert answer.status_code == 200 and answer.json()["current"] is None
    assert desk.post("transfer", service="id_card").json()["error"] == "no_current_ticket"
    assert desk.call() == tickets[1]
    # the transferred ticket waits in id_card's queue, at its place (booked 10:00)
    late_walk_in = walk_in(stack, kiosk["token"], "id_card")
    other.sign_in("id_card", "passport")
    assert other.call() == tickets[0]
    assert other.post("served").status_code == 200
    assert other.call() == late_walk_in

    board = requests.get(f"{stack.gateway_url}/centres/baku-1/board", timeout=10).json()
    lines = [(line["number"], line["counter"], line["status"]) for line in board["called"]]
    assert lines[:2] == [(late_walk_in, "6", "called"), (tickets[0], "6", "served")]
    assert (tickets[1], "5", "called") in lines and (early_walk_in, "5", "no_show") in lines
    assert board["centre"]["code"] == "baku-1" and board["waiting"] == 0
    text = str(board)
    assert "kiosk" not in text and "booking_id" not in text  # numbers and counter names only
    assert requests.get(f"{stack.gateway_url}/centres/atlantis/board",
                        timeout=10).status_code == 404

    # the histograms (issue 17 §3): three first calls from the passport queue, the
    # walk-in after 11 min and both bookings as they came (0 s); one served for id_card
    assert _sample("asan_ticket_waiting_seconds_count", centre="baku-1",
                   service="passport") - waits == 3
    assert _sample("asan_ticket_waiting_seconds_sum", centre="baku-1",
                   service="passport") - waited == 660
    assert _sample("asan_ticket_service_seconds_count", centre="baku-1",
                   service="id_card") - served == 1
    calls = events(stack, "TicketCalled")
    assert [c["first_call"] for c in calls] == [True, True, True, False, True]
    (transferred,) = events(stack, "TicketTransferred")
    assert (transferred["from_service"], transferred["to_service"]) == ("passport", "id_card")
    (no_show,) = events(stack, "TicketNoShow")
    assert no_show["recalls"] == 2
    # the kiosks' queue lists only who still waits
    queue = requests.get(f"{stack.gateway_url}/kiosk/queue", timeout=10,
                         headers={"Authorization": f"Bearer {kiosk['token']}"}).json()["queue"]
    assert queue == []
    assert rebuild("kiosk_gateway", config={"DATABASE_URL": stack.gateway_db}) == []


def test_counter_tokens_are_checked_like_kiosk_tokens_and_revoking_releases_the_ticket(stack):
    kiosk = stack.kiosk("baku-1")
    stack.clock.set("2026-11-24", "10:05")
    number = walk_in(stack, kiosk["token"])
    desk = Desk(stack)
    for headers in ({}, {"Authorization": f"Bearer {kiosk['token']}"},
                    {"Authorization": f"Bearer {desk.counter_id}.wrong"}):
        answer = requests.get(f"{stack.gateway_url}/counter", headers=headers, timeout=10)
        assert answer.status_code == 401 and "counter_unauthorized" in answer.text
    assert desk.post("sign-in", services=[]).status_code == 400
    assert desk.post("sign-in", services=["marriage-of-dragons"]).json()["error"] == "not_offered"
    desk.sign_in("passport")
    assert desk.call() == number
    rotated = requests.post(f"{stack.gateway_url}/admin/counters/{desk.counter_id}/rotate",
                            headers=ADMIN, timeout=10).json()
    assert desk.post("served").status_code == 401  # the old token stopped working
    desk.headers = {"Authorization": f"Bearer {rotated['token']}"}
    assert requests.post(f"{stack.gateway_url}/admin/counters/{desk.counter_id}/revoke",
                         headers=ADMIN, timeout=10).status_code == 200
    assert desk.post("served").status_code == 401
    other = Desk(stack, name="7")
    other.sign_in("passport")
    assert other.call() == number  # released, at its place
    listed = requests.get(f"{stack.gateway_url}/admin/counters", headers=ADMIN, timeout=10).json()
    assert {c["counter_id"]: c["status"] for c in listed}[desk.counter_id] == "revoked"
    assert requests.post(f"{stack.gateway_url}/admin/counters", json={"centre": "atlantis",
                         "name": "1"}, headers=ADMIN, timeout=10).status_code == 404
    assert rebuild("kiosk_gateway", config={"DATABASE_URL": stack.gateway_db}) == []


def test_the_board_tells_counters_apart_names_blank_or_taken_are_refused(stack):
    # Found by the issue 17 break session (§1, §2: the board shows the counter a
    # ticket goes to): an administrator could register two active counters of one
    # centre both named "5", or "5 " and "\u202e5" beside "5", or a name of blanks,
    # and the board then sent a visitor to a counter nobody could tell apart.
    def register(name, centre="baku-1"):
        return requests.post(f"{stack.gateway_url}/admin/counters", headers=ADMIN,
                             timeout=10, json={"centre": centre, "name": name})

    first = register("Masa  5 ")
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "Masa 5"  # kept as the board shows it
    for name in ("Masa 5", "masa 5", " Masa 5", "Masa\u00a05"):
        answer = register(name)
        assert (answer.status_code, answer.json()["error"]) == (409, "name_taken"), name
    for name in (" ", "\t", "\u202e5", "5\u200b", "5\n6"):
        answer = register(name)
        assert (answer.status_code, answer.json()["error"]) == (400, "validation_failed"), name
    assert register("Masa 5", centre="quba").status_code == 201  # another centre's board
    requests.post(f"{stack.gateway_url}/admin/counters/{first.json()['counter_id']}/revoke",
                  headers=ADMIN, timeout=10)
    assert register("Masa 5").status_code == 201  # a revoked counter's name is free again
