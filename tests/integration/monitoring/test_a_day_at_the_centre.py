"""Issue 17, "Done when": a scripted day at one centre on the real stack — the whole
platform in-process on the real PostgreSQL, RabbitMQ and SMTP sink, every relay
running, one clock the test moves — bookings made the day before (Q-1), one moved
with its order code, a closure of another centre (its booking cancelled and emailed),
kiosk activations and walk-ins (Q-7), two counters calling, a transfer, a no-show;
then the control report (M-1 … M-4) shows every figure, counted here by hand, and
its rebuild from the event logs reproduces it exactly."""
import pytest
import requests

from tests.mailbox import text_of, wait_for_mail

pytestmark = pytest.mark.integration

DAY1, DAY2 = "2026-11-23", "2026-11-24"  # a Monday and a Tuesday
AS_OF = "2026-11-24T20:00:00+04:00"


class Desk:
    """A counter of the centre, driven over the kiosk gateway's counter API."""

    def __init__(self, platform, name):
        self.platform = platform
        answer = requests.post(platform.url("kiosk_gateway", "/admin/counters"),
                               json={"centre": "baku-1", "name": name},
                               headers=platform.auth("kiosk_gateway"), timeout=10)
        assert answer.status_code == 201, answer.text
        self.name = name
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}

    def act(self, action, **body):
        answer = requests.post(self.platform.url("kiosk_gateway", f"/counter/{action}"),
                               json=body or None, headers=self.headers, timeout=30)
        assert answer.status_code == 200, (action, answer.text)
        return answer.json()

    def call(self):
        return self.act("call-next")["current"]["number"]


def walk_in(platform, kiosk, service="passport"):
    answer = requests.post(platform.url("kiosk_gateway", "/kiosk/walk-ins"),
                           json={"service": service}, timeout=10,
                           headers={"Authorization": f"Bearer {kiosk}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["number"]


def scripted_day(platform):
    """The day, driven through the services' APIs; returns the tickets by role."""
    clock = platform.clock
    clock.set(DAY1, "10:00")
    visits = [dict(at="10:00"), dict(at="10:15"), dict(at="10:30", service="id_card"),
              dict(at="11:00")]
    booked = [platform.request_booking(day=DAY2, **visit) for visit in visits]
    codes = [platform.confirm(*booking) for booking in booked]
    elsewhere = platform.request_booking(day=DAY2, centre="baku-2", at="12:00")
    platform.confirm(*elsewhere)
    # The fourth visitor moves to 10:45 with the order code (issue 17 §5).
    clock.set(DAY1, "16:00")
    moved = requests.post(platform.url("booking", "/bookings/reschedule"), timeout=10,
                          json={"order_code": codes[3], "date": DAY2, "time": "10:45"})
    assert moved.status_code == 200, moved.text
    # Another centre closes for day 2 (issue 17 §6): its booking is cancelled, emailed.
    clock.set(DAY1, "18:00")
    closed = requests.post(platform.url("booking", "/admin/closures"), timeout=30,
                           json={"centre": "baku-2", "service": None, "date": DAY2,
                                 "reason": "technical_fault"},
                           headers=platform.auth("booking"))
    assert closed.status_code == 201, closed.text

    # Day 2 at baku-1: two walk-ins, four activations, two counters.
    kiosk = platform.kiosk("baku-1")
    clock.set(DAY2, "09:50")
    walk_ins = [walk_in(platform, kiosk), walk_in(platform, kiosk)]
    tickets = {}

    def activate(n, at):
        clock.set(DAY2, at)
        answer = platform.activate(kiosk, codes[n])
        assert answer.status_code == 200, answer.text
        tickets[n] = answer.json()["number"]

    activate(0, "09:55")
    a, b = Desk(platform, "1"), Desk(platform, "2")
    a.act("sign-in", services=["passport"])
    b.act("sign-in", services=["passport", "id_card"])
    clock.set(DAY2, "10:00")
    assert [a.call(), b.call()] == walk_ins  # walk-ins of 09:50 before the 10:00 booking
    activate(1, "10:10")
    clock.set(DAY2, "10:12")
    a.act("served")                                   # walk-in 1: served in 12 min
    assert a.call() == tickets[0]                     # the 10:00 booking
    clock.set(DAY2, "10:14")
    b.act("recall")
    b.act("recall")
    b.act("no-show")                                  # walk-in 2: nobody came
    clock.set(DAY2, "10:15")
    assert b.call() == tickets[1]                     # the 10:15 booking
    activate(2, "10:20")
    a.act("transfer", service="id_card")              # the 10:00 booking needs an id card
    clock.set(DAY2, "10:25")
    b.act("served")
    assert b.call() == tickets[0]                     # at its place: 10:00 before 10:30
    clock.set(DAY2, "10:35")
    b.act("served")
    clock.set(DAY2, "10:36")
    assert b.call() == tickets[2]
    activate(3, "10:40")
    clock.set(DAY2, "10:41")
    assert a.call() == tickets[3]                     # the moved visit
    clock.set(DAY2, "10:46")
    b.act("served")
    clock.set(DAY2, "10:50")
    a.act("served")
    return {"walk_ins": walk_ins, "tickets": tickets, "elsewhere": elsewhere}


def test_issue17_a_day_at_the_centre_is_in_the_control_report(start_platform):
    platform = start_platform()
    did = scripted_day(platform)
    # The closed centre's visitor was told why, with a link to book again.
    message = wait_for_mail(did["elsewhere"][1], "booking_closed")
    assert "/booking" in text_of(message)
    platform.wait_caught_up()
    check_figures(platform.report(DAY1, as_of=AS_OF).json(),
                  platform.report(DAY2, as_of=AS_OF).json())
    page = platform.report(DAY2, as_of=AS_OF, format="html")
    assert "<svg" in page.text and "baku-1 / passport" in page.text

    # Wipe the monitoring database and rebuild it from the services' event logs.
    before = {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2)}
    assert platform.rebuild_monitoring_from_scratch() == platform.public_events()
    assert {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2)} == before


def _figures(count, mean, median, p90, most):
    return {"count": count, "mean": mean, "median": median, "p90": p90, "max": most}


def check_figures(day1, day2):
    """Every figure of the day, counted by hand from the script above (times in
    seconds; median and p90 nearest-rank)."""
    assert day2["kiosks"]["tickets_issued"] == 6
    assert day2["kiosks"]["tickets_by_series"] == {"booked": 4, "walk_in": 2}
    # issued → called → served / no-show; the transfer counted once, under the
    # service it left, the second call of the transferred ticket not a first call
    assert day2["funnel"]["tickets"] == {"issued": 6, "called": 6, "transferred": 1,
                                         "served": 5, "no_show": 1, "not_called": 0}
    assert day2["tickets_by_centre_service"] == [
        {"centre": "baku-1", "service": "id_card", "issued": 1, "called": 1,
         "transferred": 0, "served": 2, "no_show": 0, "not_called": 0},
        {"centre": "baku-1", "service": "passport", "issued": 5, "called": 5,
         "transferred": 1, "served": 3, "no_show": 1, "not_called": 0}]
    # waiting (print → first call): walk-ins 600, 600; bookings 1020, 300, 960 (id card), 60
    times = day2["visit_times"]
    assert times["unit"] == "s"
    assert times["waiting"] == {"all": _figures(6, 590.0, 600.0, 1020.0, 1020.0),
                                "by_centre_service": [
        {"centre": "baku-1", "service": "id_card", **_figures(1, 960.0, 960.0, 960.0, 960.0)},
        {"centre": "baku-1", "service": "passport",
         **_figures(5, 516.0, 600.0, 1020.0, 1020.0)}]}
    # service (call → served): 720, 600, 540 (passport); 600 after the transfer, 600 (id card)
    assert times["service"] == {"all": _figures(5, 612.0, 600.0, 720.0, 720.0),
                                "by_centre_service": [
        {"centre": "baku-1", "service": "id_card", **_figures(2, 600.0, 600.0, 600.0, 600.0)},
        {"centre": "baku-1", "service": "passport",
         **_figures(3, 620.0, 600.0, 720.0, 720.0)}]}
    # the visits booked for day 2: four at baku-1 (one moved within the day), one at
    # baku-2 cancelled by its closure
    assert day2["funnel"]["visits"] == {
        "requested": 5, "confirmed": 5, "activated": 4, "lapsed": 0, "cancelled": 1,
        "voided": 0, "hold_expired": 0, "awaiting_visit": 0, "cancelled_by": {"closure": 1}}
    changes = day2["visit_changes"]
    assert [(c["centre"], c["service"], c["reason"], c["cancelled"])
            for c in changes["closures"]] == [("baku-2", None, "technical_fault", 1)]
    assert changes["bookings_cancelled_by_closures"] == 1
    assert changes["reschedules"] == {"made": 0, "moved_to_day": 1, "moved_from_day": 1}
    assert day1["visit_changes"]["reschedules"]["made"] == 1
    assert day1["funnel"]["visits"]["requested"] == 0
