"""Issue 17 §3–§6 in the control report, on the whole platform: bookings and kiosk
tickets made through the services' APIs, then the events the contract fixes for the
counters (TicketCalled, TicketTransferred, TicketServed, TicketNoShow…) and for
booking (BookingRescheduled, BookingReminded, CentreClosed, BookingCancelled by
"closure") stored in the kiosk gateway's and booking's event logs — as their
producers store them — and carried by their relays through RabbitMQ to monitoring.
The report's waiting and service times, ticket funnel, closures, reschedules and
reminders are counted by hand; a rebuild from the event logs reproduces every figure.

The day a ticket counts on is its ``date`` (the Baku day it was issued), even when
it is called after midnight."""
import uuid
from datetime import datetime

import psycopg
import pytest
import requests

from services.booking import events as booking_events
from services.kiosk_gateway import events as kiosk_events
from shared.vocabulary.clock import BAKU
from shared.runtime.eventstore import ANY_VERSION, EventStore
from shared.ops.rebuild import rebuild as check_rebuild

pytestmark = pytest.mark.integration

DAY1, DAY2, DAY3 = "2026-11-23", "2026-11-24", "2026-11-25"
AS_OF = "2026-11-25T20:00:00+04:00"


def at(day, hhmm):
    """An ISO time of ``day`` ``hhmm`` in Baku."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=BAKU).isoformat()


def store(platform, source, catalog, events):
    """Store ``events`` (``(stream, type, data)``) in ``source``'s event log, as its
    service would: its relay publishes them."""
    log = EventStore(catalog)
    with psycopg.connect(platform.databases[source]) as conn, conn.transaction():
        for stream, kind, data in events:
            log.append(conn, stream, ANY_VERSION,
                       [catalog.new(kind, stream, data, str(uuid.uuid4()))])


def tickets_issued(platform):
    """{ticket number: TicketIssued data} from the kiosk gateway's log."""
    with psycopg.connect(platform.databases["kiosk_gateway"]) as conn:
        return {data["number"]: data for (data,) in conn.execute(
            "SELECT data FROM events WHERE event_type = 'TicketIssued'")}


def walk_in(platform, token):
    response = requests.post(platform.url("kiosk_gateway", "/kiosk/walk-ins"), timeout=10,
                             json={"service": "passport"},
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["number"]


def counters_day(platform, tickets, booked, walk_ins):
    """The counters' events of the day, as the kiosk gateway would store them."""
    t1, t2 = (tickets[number] for number in booked)
    w1, w2, _ = (tickets[number] for number in walk_ins)

    def ticket(t, **data):
        return {"ticket_id": t["ticket_id"], "centre": t["centre"], "date": t["date"],
                "number": t["number"]} | data

    def called(t, when, service="passport", counter="c-1", first=True):
        return ("TicketCalled", ticket(
            t, service=service, series=t["series"], counter_id=counter,
            counter_name=counter.upper(), issued_at=t["issued_at"], called_at=when,
            first_call=first))

    def served(t, called_at, when, service="passport", counter="c-1"):
        return ("TicketServed", ticket(t, service=service, counter_id=counter,
                                       called_at=called_at, served_at=when))

    steps = [
        (t1, [called(t1, at(DAY2, "10:20")),  # waited 600 s
             served(t1, at(DAY2, "10:20"), at(DAY2, "10:32"))]),  # served in 720 s
        (t2, [called(t2, at(DAY2, "10:40")),  # waited 900 s
             ("TicketTransferred", ticket(t2, from_service="passport", to_service="id_card",
                                          counter_id="c-1", at=at(DAY2, "10:45"))),
             called(t2, at(DAY2, "10:50"), "id_card", "c-2", first=False),
             served(t2, at(DAY2, "10:50"), at(DAY2, "11:10"), "id_card", "c-2")]),  # 1200 s
        (w1, [called(w1, at(DAY2, "16:05")),  # waited 300 s
             *[("TicketRecalled", ticket(w1, service="passport", counter_id="c-1",
                                         counter_name="C-1", recalls=n,
                                         at=at(DAY2, f"16:0{5 + n}"))) for n in (1, 2)],
             ("TicketNoShow", ticket(w1, service="passport", counter_id="c-1", recalls=2,
                                     at=at(DAY2, "16:09")))]),
        # Issued at 16:30, called after midnight: a visit of its issue day.
        (w2, [called(w2, at(DAY3, "00:35")),  # waited 8 h 05 min = 29,100 s
             served(w2, at(DAY3, "00:35"), at(DAY3, "00:45"))]),  # 600 s
    ]
    return [(f"ticket-{t['ticket_id']}", kind, data)
            for t, events in steps for kind, data in events]


def test_i17_the_report_shows_the_times_the_ticket_funnel_and_the_changes_of_visits(
        start_platform):
    platform = start_platform()
    clock = platform.clock
    clock.set(DAY1, "10:00")
    bookings = [platform.request_booking(at=time) for time in ("10:15", "10:30", "11:00")]
    bookings.append(platform.request_booking(centre="baku-2", at="12:00"))
    codes = [platform.confirm(*booking) for booking in bookings]
    ids = [booking for booking, _ in bookings]

    def slot(n, **data):
        booking = {"booking_id": ids[n], "centre": "baku-2" if n == 3 else "baku-1",
                   "service": "passport", "date": DAY2,
                   "time": ("10:15", "10:30", "11:00", "12:00")[n]}
        return booking | data

    store(platform, "booking", booking_events.CATALOG, [
        # The third visit moves to day 3 (§5), the first two are reminded (§4).
        (f"booking-{ids[2]}", "BookingRescheduled", slot(
            2, date=DAY3, previous_date=DAY2, previous_time="11:00",
            rescheduled_at=at(DAY1, "15:00"))),
        *[(f"booking-{ids[n]}", "BookingReminded", slot(n, reminded_at=at(DAY1, "18:00")))
          for n in (0, 1)],
        # baku-2 closes for day 2 (§6): its one booking is cancelled by the closure.
        (f"closure-{ids[3]}", "CentreClosed", {
            "closure_id": str(uuid.uuid4()), "centre": "baku-2", "service": None,
            "date": DAY2, "reason": "power_outage", "closed_at": at(DAY1, "19:00"),
            "cancelled": 1}),
        (f"booking-{ids[3]}", "BookingCancelled", {
            "booking_id": ids[3], "cancelled_at": at(DAY1, "19:00"), "by": "closure"}),
    ])

    kiosk = platform.kiosk("baku-1")
    clock.set(DAY2, "10:10")
    assert platform.activate(kiosk, codes[0]).status_code == 200
    clock.set(DAY2, "10:25")
    assert platform.activate(kiosk, codes[1]).status_code == 200
    walk_ins = []
    for time in ("16:00", "16:30", "16:45"):
        clock.set(DAY2, time)
        walk_ins.append(walk_in(platform, kiosk))
    tickets = tickets_issued(platform)
    booked = sorted(set(tickets) - set(walk_ins))
    store(platform, "kiosk_gateway", kiosk_events.CATALOG,
          counters_day(platform, tickets, booked, walk_ins))
    platform.wait_caught_up()

    day2 = platform.report(DAY2, as_of=AS_OF).json()
    assert day2["funnel"]["tickets"] == {"issued": 5, "called": 4, "transferred": 1,
                                         "served": 3, "no_show": 1, "not_called": 1}
    assert day2["tickets_by_centre_service"] == [
        {"centre": "baku-1", "service": "id_card", "issued": 0, "called": 0,
         "transferred": 0, "served": 1, "no_show": 0, "not_called": 0},
        {"centre": "baku-1", "service": "passport", "issued": 5, "called": 4,
         "transferred": 1, "served": 2, "no_show": 1, "not_called": 1}]
    times = day2["visit_times"]
    waiting = {"count": 4, "mean": 7725.0, "median": 600.0, "p90": 29100.0, "max": 29100.0}
    assert times["waiting"] == {"all": waiting, "by_centre_service": [
        {"centre": "baku-1", "service": "passport", **waiting}]}
    assert times["service"] == {
        "all": {"count": 3, "mean": 840.0, "median": 720.0, "p90": 1200.0, "max": 1200.0},
        "by_centre_service": [
            {"centre": "baku-1", "service": "id_card", "count": 1, "mean": 1200.0,
             "median": 1200.0, "p90": 1200.0, "max": 1200.0},
            {"centre": "baku-1", "service": "passport", "count": 2, "mean": 660.0,
             "median": 600.0, "p90": 720.0, "max": 720.0}]}
    assert times["unit"] == "s"
    # The rescheduled visit counts on day 3; the closure's cancellation on day 2.
    assert day2["funnel"]["visits"] | {"cancelled_by": None} == {
        "requested": 3, "confirmed": 3, "activated": 2, "lapsed": 0, "cancelled": 1,
        "voided": 0, "hold_expired": 0, "awaiting_visit": 0, "cancelled_by": None}
    assert day2["funnel"]["visits"]["cancelled_by"] == {"closure": 1}
    changes = day2["visit_changes"]
    assert [(c["centre"], c["service"], c["reason"], c["cancelled"])
            for c in changes["closures"]] == [("baku-2", None, "power_outage", 1)]
    assert changes["bookings_cancelled_by_closures"] == 1
    assert changes["reschedules"] == {"made": 0, "moved_to_day": 0, "moved_from_day": 1}
    assert changes["reminders"] == {"sent": 0, "for_day": 2}

    day1 = platform.report(DAY1, as_of=AS_OF).json()
    assert day1["visit_changes"]["reschedules"]["made"] == 1
    assert day1["visit_changes"]["reminders"]["sent"] == 2
    day3 = platform.report(DAY3, as_of=AS_OF).json()
    assert day3["visit_changes"]["reschedules"]["moved_to_day"] == 1
    assert (day3["funnel"]["visits"]["requested"],
            day3["funnel"]["visits"]["awaiting_visit"]) == (1, 1)
    assert day3["visit_times"]["waiting"]["all"]["count"] == 0  # the late call is day 2's
    assert day3["funnel"]["tickets"]["called"] == 0

    # Cut to one centre: baku-2's closure is not baku-1's.
    baku1 = platform.report(DAY2, as_of=AS_OF, centre="baku-1").json()
    assert baku1["visit_changes"]["closures"] == []
    assert baku1["funnel"]["tickets"]["issued"] == 5
    page = platform.report(DAY2, as_of=AS_OF, format="html").text
    assert "baku-1 / passport: 10.0 min" in page and "power_outage" in page

    # The read models are the fold of the events, and a rebuild from scratch gives
    # the same reports, figure for figure.
    config = platform.containers["monitoring"].config
    assert check_rebuild("monitoring", config=config) == []
    before = {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2, DAY3)}
    assert platform.rebuild_monitoring_from_scratch() == platform.public_events()
    after = {day: platform.report(day, as_of=AS_OF).json() for day in (DAY1, DAY2, DAY3)}
    assert after == before
