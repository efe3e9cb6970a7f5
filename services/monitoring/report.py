"""The automated-control report of one day (M-1 … M-3), computed from the read models.

    build(conn, Params(day=date(2026, 11, 24), as_of=..., stuck_after=timedelta(minutes=10)))

Sections:

* ``receipt`` (M-1): requests received that day — booking requests (and refused
  forms), FIN queries and complaints — per channel and per hour (Baku time);
* ``response_times`` (M-2): p50/p95/p99 from a booking request to its code email
  being delivered, from a confirmation to its order-code email, and of FIN lookups;
* ``funnel`` (M-3): the visits booked for that day and what became of them, with the
  refused forms by reason; ``by_centre_service`` breaks it down;
* ``failures`` (M-3): the processes stuck where they should not be, as of ``as_of``;
* ``fin_queries``, ``complaints`` and ``kiosks``: their figures for the day;
* ``visit_times`` (issue 17 §3): waiting (issue → first call) and service (call →
  served) times of the day's tickets per centre and service — count, mean, median,
  p90, max in seconds — and ``funnel.tickets`` / ``tickets_by_centre_service``: the
  tickets issued, called, transferred, served, no-show, not called;
* ``visit_changes`` (issue 17 §4–§6): the closures of the day, reschedules, reminders.

Everything is ordered, so the same read models give the same report, byte for byte:
that is how a rebuild is checked. Only ``dead_letters`` is not from the read models:
it is the broker's count when the report is made, passed in by the caller.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from shared.vocabulary.clock import BAKU

CODE_TEMPLATE = "booking_confirmation_code"
ORDER_CODE_TEMPLATE = "booking_order_code"
PERCENTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class Params:
    """What one report is about: the Baku ``day`` (or the window ``since``–``until``,
    for the live gauges), optionally one centre and one service; ``as_of`` and
    ``stuck_after`` decide which processes count as stuck (M-3); ``dead_letters`` is the
    broker's count, passed in."""
    day: date
    as_of: datetime
    stuck_after: timedelta = timedelta(minutes=10)
    centre: str | None = None
    service: str | None = None
    dead_letters: tuple = field(default=())  # ((queue, messages), …) from the broker
    since: datetime | None = None  # a window other than the day (the live gauges)
    until: datetime | None = None

    @property
    def start(self):
        """The window's start (aware): ``since``, else midnight of ``day`` in Baku."""
        return self.since or datetime.combine(self.day, time(0), BAKU)

    @property
    def end(self):
        """The window's end, exclusive: ``until``, else the midnight after ``day`` in Baku."""
        return self.until or datetime.combine(self.day + timedelta(days=1), time(0), BAKU)

    def sql(self):
        """The named parameters of every report query (``%(start)s``, ``%(day)s``, …)."""
        return {"start": self.start, "end": self.end, "day": self.day, "as_of": self.as_of,
                "stuck": self.stuck_after, "centre": self.centre, "service": self.service,
                "code": CODE_TEMPLATE, "order": ORDER_CODE_TEMPLATE}


def booking_filter(table=""):
    """The centre and service filter (NULL = all) on a booking read model."""
    prefix = f"{table}." if table else ""
    return (f"(%(centre)s::text IS NULL OR {prefix}centre = %(centre)s)"
            f" AND (%(service)s::text IS NULL OR {prefix}service = %(service)s)")


_BOOKING_FILTER = booking_filter()


def _rows(conn, sql, params):
    return conn.execute(sql, params).fetchall()


def _counts(rows):
    """[(key, n), …] → {key: n} (keys ordered)."""
    return {str(key): int(n) for key, n in sorted(rows, key=lambda row: str(row[0]))}


def _by_hour(rows):
    """[(hour, channel, n), …] → {"09": {"web": 3}, …}, hours that had any."""
    result = {}
    for hour, channel, n in sorted(rows, key=lambda row: (int(row[0]), str(row[1]))):
        result.setdefault(f"{int(hour):02d}", {})[str(channel)] = int(n)
    return result


def _iso(value):
    return value.isoformat() if value is not None else None


def _percentiles(conn, sql, params, scale=1.0, unit="s"):
    row = conn.execute(
        f"SELECT count(*), percentile_disc(ARRAY{list(PERCENTILES)}) WITHIN GROUP (ORDER BY x),"
        f" max(x) FROM ({sql}) AS samples", params).fetchone()
    count, values, highest = row
    if not count:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "unit": unit}
    p50, p95, p99 = (round(float(value) * scale, 3) for value in values)
    return {"count": int(count), "p50": p50, "p95": p95, "p99": p99,
            "max": round(float(highest) * scale, 3), "unit": unit}


# --- M-1 receipt -------------------------------------------------------------------
def receipt(conn, params):
    """M-1: the requests received — booking requests, refused booking forms and FIN
    queries in the window, complaints filed that day — each ``{total, by_channel,
    by_hour}``, hours in Baku time."""
    p = params.sql()
    hour = "extract(hour FROM {} AT TIME ZONE 'Asia/Baku')"
    bookings = (f"FROM bookings WHERE requested_at >= %(start)s AND requested_at < %(end)s"
                f" AND {_BOOKING_FILTER}")
    refusals = (f"FROM booking_refusals WHERE refused_at >= %(start)s AND refused_at < %(end)s"
                f" AND {_BOOKING_FILTER}")
    fin = "FROM fin_queries WHERE asked_at >= %(start)s AND asked_at < %(end)s"
    complaints = "FROM complaints WHERE filed_on = %(day)s"

    def section(where, at):
        return {
            "total": int(conn.execute(f"SELECT count(*) {where}", p).fetchone()[0]),
            "by_channel": _counts(_rows(conn, f"SELECT channel, count(*) {where} GROUP BY 1", p)),
            "by_hour": _by_hour(_rows(
                conn, f"SELECT {hour.format(at)}, channel, count(*) {where} GROUP BY 1, 2", p)),
        }

    return {"booking_requests": section(bookings, "requested_at"),
            "booking_forms_refused": section(refusals, "refused_at"),
            "fin_queries": section(fin, "asked_at"),
            "complaints": section(complaints, "filed_logged_at")}


# --- M-2 response times ------------------------------------------------------------
def response_times(conn, params):
    """M-2: from a booking request to its code email delivered and from a confirmation
    to its order-code email delivered (seconds), and FIN lookups (``latency_ms``,
    milliseconds); each ``{count, p50, p95, p99, max, unit}``, ``None`` without samples."""
    p = params.sql()
    code = _percentiles(conn, (
        "SELECT extract(epoch FROM e.delivered_logged_at - b.requested_logged_at) AS x"
        " FROM bookings b JOIN emails e ON e.reference = 'booking-' || b.booking_id"
        "  AND e.template = %(code)s AND e.delivered_logged_at IS NOT NULL"
        " WHERE b.requested_at >= %(start)s AND b.requested_at < %(end)s AND "
        + booking_filter("b")), p)
    order = _percentiles(conn, (
        "SELECT extract(epoch FROM e.delivered_logged_at - b.confirmed_logged_at) AS x"
        " FROM bookings b JOIN emails e ON e.reference = 'booking-' || b.booking_id"
        "  AND e.template = %(order)s AND e.delivered_logged_at IS NOT NULL"
        " WHERE b.confirmed_at >= %(start)s AND b.confirmed_at < %(end)s AND "
        + booking_filter("b")), p)
    fin = _percentiles(conn, "SELECT latency_ms AS x FROM fin_queries"
                             " WHERE asked_at >= %(start)s AND asked_at < %(end)s", p, unit="ms")
    return {"request_to_code_email_delivered": code,
            "confirmation_to_order_code_email_delivered": order,
            "fin_lookup": fin}


# --- M-3 completeness --------------------------------------------------------------
_FUNNEL = """
    count(*) FILTER (WHERE requested_at IS NOT NULL) AS requested,
    count(*) FILTER (WHERE confirmed_at IS NOT NULL) AS confirmed,
    count(*) FILTER (WHERE activated_at IS NOT NULL) AS activated,
    count(*) FILTER (WHERE lapsed_at IS NOT NULL) AS lapsed,
    count(*) FILTER (WHERE cancelled_at IS NOT NULL) AS cancelled,
    count(*) FILTER (WHERE voided_at IS NOT NULL) AS voided,
    count(*) FILTER (WHERE hold_expired_at IS NOT NULL) AS hold_expired,
    count(*) FILTER (WHERE confirmed_at IS NOT NULL AND activated_at IS NULL
                     AND lapsed_at IS NULL AND cancelled_at IS NULL) AS awaiting_visit
"""
FUNNEL_KEYS = ("requested", "confirmed", "activated", "lapsed", "cancelled", "voided",
               "hold_expired", "awaiting_visit")


# Each rescheduled booking's latest visit date (issue 17 §5): a visit counts on the day
# it was last moved to, whatever its other events say (an activation after the move
# carries the new day, a request before it the old one).
_MOVED = ("(SELECT DISTINCT ON (booking_id) booking_id, visit_date FROM booking_reschedules"
          " ORDER BY booking_id, rescheduled_at DESC, event_id DESC)")
_VISITS_ON_DAY = (
    "(visit_date = %(day)s OR booking_id IN"
    f" (SELECT booking_id FROM {_MOVED} AS moved WHERE moved.visit_date = %(day)s))"
    f" AND booking_id NOT IN (SELECT booking_id FROM {_MOVED} AS moved"
    " WHERE moved.visit_date <> %(day)s)")


def funnel(conn, params):
    """M-2, M-3: what became of the visits booked for ``params.day`` (requested,
    confirmed, activated, lapsed, cancelled…; a rescheduled visit on the day it was
    last moved to) and the forms refused in the window, by reason. Returns ``(totals,
    breakdown)``, the breakdown one dict per centre and service."""
    p = params.sql()
    where = f"FROM bookings WHERE {_VISITS_ON_DAY} AND {_BOOKING_FILTER}"
    totals = dict(zip(FUNNEL_KEYS, map(int, conn.execute(f"SELECT {_FUNNEL} {where}", p)
                                       .fetchone())))
    refusals = f"FROM booking_refusals WHERE refused_at >= %(start)s AND refused_at < %(end)s" \
               f" AND {_BOOKING_FILTER}"
    refused_total = int(conn.execute(f"SELECT count(*) {refusals}", p).fetchone()[0])
    by_reason = _counts(_rows(conn, (
        "SELECT reason ->> 'code', count(DISTINCT refusal_id) FROM booking_refusals,"
        " jsonb_array_elements(reasons) AS reason"
        f" WHERE refused_at >= %(start)s AND refused_at < %(end)s AND {_BOOKING_FILTER}"
        " GROUP BY 1"), p))
    cancelled_by = _counts(_rows(conn, f"SELECT cancelled_by, count(*) {where}"
                                       " AND cancelled_at IS NOT NULL GROUP BY 1", p))
    breakdown = [
        {"centre": row[0], "service": row[1], **dict(zip(FUNNEL_KEYS, map(int, row[2:])))}
        for row in _rows(conn, f"SELECT centre, service, {_FUNNEL} {where}"
                               " GROUP BY 1, 2 ORDER BY 1, 2", p)]
    return {"visits": totals | {"cancelled_by": cancelled_by},
            "refused": {"total": refused_total, "by_reason": by_reason}}, breakdown


def failures(conn, params):
    """Processes stuck where they should not be, as of ``params.as_of``."""
    p = params.sql()
    b_filter = booking_filter("b")

    def undelivered(template, since, day_column):
        rows = _rows(conn, (
            f"SELECT b.booking_id, b.centre, b.service, b.{since},"
            "  CASE WHEN e.delivered_logged_at IS NOT NULL THEN 'late'"
            "       WHEN e.failed_logged_at IS NOT NULL THEN 'failed'"
            "       WHEN e.created_logged_at IS NOT NULL THEN 'not_sent'"
            "       ELSE 'not_created' END,"
            f"  extract(epoch FROM e.delivered_logged_at - b.{since})"
            f" FROM bookings b LEFT JOIN emails e ON e.reference = 'booking-' || b.booking_id"
            f"  AND e.template = %({template})s"
            f" WHERE b.{day_column} >= %(start)s AND b.{day_column} < %(end)s AND {b_filter}"
            f"  AND b.{since} + %(stuck)s <= %(as_of)s"
            # An email superseded (its booking moved on) was rightly never sent.
            "  AND e.superseded_logged_at IS NULL"
            f"  AND (e.delivered_logged_at IS NULL"
            f"       OR e.delivered_logged_at > b.{since} + %(stuck)s)"
            " ORDER BY b.booking_id"), p)
        return [{"booking_id": str(booking), "centre": centre, "service": service,
                 "since": _iso(since_at), "state": state,
                 "delivered_after_s": round(float(after), 3) if after is not None else None}
                for booking, centre, service, since_at, state, after in rows]

    code = undelivered("code", "requested_logged_at", "requested_at")
    order = undelivered("order", "confirmed_logged_at", "confirmed_at")
    emails = [{"intent_id": intent, "template": template, "reference": reference,
               "failure": kind, "smtp_code": smtp_code}
              for intent, template, reference, kind, smtp_code in _rows(conn, (
                  "SELECT intent_id, template, reference, failure_type, failure_smtp_code"
                  " FROM emails WHERE failed_logged_at >= %(start)s"
                  " AND failed_logged_at < %(end)s ORDER BY intent_id"), p)]
    overdue = [{"complaint_id": str(complaint), "due_on": due.isoformat()}
               for complaint, due in _rows(conn, (
                   "SELECT complaint_id, due_on FROM complaints WHERE due_on IS NOT NULL"
                   " AND due_on < (%(as_of)s AT TIME ZONE 'Asia/Baku')::date"
                   " AND answered_at IS NULL AND withdrawn_at IS NULL"
                   " ORDER BY due_on, complaint_id"), p)]
    dead = [{"queue": queue, "messages": int(messages)}
            for queue, messages in sorted(params.dead_letters) if messages]
    return {
        "summary": {"code_email_not_delivered": len(code),
                    "order_code_email_not_delivered": len(order),
                    "emails_failed": len(emails),
                    "complaints_overdue": len(overdue),
                    "dead_letters": sum(item["messages"] for item in dead)},
        "code_email_not_delivered": code,
        "order_code_email_not_delivered": order,
        "emails_failed": emails,
        "complaints_overdue": overdue,
        "dead_letters": dead,
    }


def fin_queries(conn, params):
    """F-6: the FIN queries of the window: the total, by outcome and by lookup method."""
    p = params.sql()
    where = "FROM fin_queries WHERE asked_at >= %(start)s AND asked_at < %(end)s"
    return {"total": int(conn.execute(f"SELECT count(*) {where}", p).fetchone()[0]),
            "by_outcome": _counts(_rows(conn, f"SELECT outcome, count(*) {where} GROUP BY 1", p)),
            "by_method": _counts(_rows(conn, f"SELECT method, count(*) {where} GROUP BY 1", p))}


def complaints(conn, params):
    """C-3: complaints filed that day, by channel; answered in the window, by decision
    and how many late; withdrawn; and how many became overdue."""
    p = params.sql()
    on_day = "%(start)s AND {0} < %(end)s"
    received = _counts(_rows(conn, "SELECT channel, count(*) FROM complaints"
                                   " WHERE filed_on = %(day)s GROUP BY 1", p))
    answered = _counts(_rows(conn, "SELECT decision, count(*) FROM complaints WHERE answered_at"
                                   f" >= {on_day.format('answered_at')} GROUP BY 1", p))
    late = int(conn.execute("SELECT count(*) FROM complaints WHERE answered_late AND answered_at"
                            f" >= {on_day.format('answered_at')}", p).fetchone()[0])
    withdrawn = int(conn.execute("SELECT count(*) FROM complaints WHERE withdrawn_at"
                                 f" >= {on_day.format('withdrawn_at')}", p).fetchone()[0])
    overdue = int(conn.execute("SELECT count(*) FROM complaints WHERE overdue_logged_at"
                               f" >= {on_day.format('overdue_logged_at')}", p).fetchone()[0])
    return {"received": sum(received.values()), "received_by_channel": received,
            "answered": sum(answered.values()), "answered_by_decision": answered,
            "answered_late": late, "withdrawn": withdrawn, "became_overdue": overdue}


def kiosks(conn, params):
    """Q-7, Q-8: tickets issued that day, by series (booked, walk-in), and activations
    refused in the window, by reason."""
    p = params.sql()
    centre = "(%(centre)s::text IS NULL OR centre = %(centre)s)"
    tickets = _counts(_rows(conn, (
        "SELECT series, count(*) FROM tickets WHERE date = %(day)s AND " + _BOOKING_FILTER
        + " GROUP BY 1"), p))
    refused = _counts(_rows(conn, (
        "SELECT reason, count(*) FROM activation_refusals"
        f" WHERE at >= %(start)s AND at < %(end)s AND {centre} GROUP BY 1"), p))
    return {"tickets_issued": sum(tickets.values()), "tickets_by_series": tickets,
            "activations_refused": sum(refused.values()), "activations_refused_by_reason": refused}


# --- issue 17 §3: the visit at the centre --------------------------------------------
TICKET_FUNNEL_KEYS = ("issued", "called", "transferred", "served", "no_show", "not_called")
_TICKET_STAGES = (
    # (stage, its rows of the day: one per ticket, with its service at that stage)
    ("issued", "SELECT centre, service FROM tickets WHERE {on_day}"),
    ("called", "SELECT DISTINCT ticket_id, centre, service FROM ticket_calls"
               " WHERE first_call AND {on_day}"),
    ("transferred", "SELECT DISTINCT ON (ticket_id) centre, service FROM"
                    " (SELECT *, from_service AS service FROM ticket_transfers) AS t"
                    " WHERE {on_day} ORDER BY ticket_id, at, event_id"),
    ("served", "SELECT centre, service FROM ticket_outcomes"
               " WHERE outcome = 'served' AND {on_day}"),
    ("no_show", "SELECT centre, service FROM ticket_outcomes"
                " WHERE outcome = 'no_show' AND {on_day}"),
    ("not_called", "SELECT centre, service FROM tickets AS t WHERE {on_day}"
                   " AND NOT EXISTS (SELECT 1 FROM ticket_calls AS c"
                   "  WHERE c.ticket_id = t.ticket_id AND c.first_call)"),
)


def ticket_funnel(conn, params):
    """Issue 17 §3: what became of the tickets of ``params.day`` (the Baku day a ticket
    was issued, which it counts on even when called or served after midnight):
    ``issued`` (TicketIssued), ``called`` (a first TicketCalled), ``transferred`` (at
    least once), ``served`` (TicketServed), ``no_show`` (TicketNoShow) and
    ``not_called`` (issued, never called: still waiting, or left). Each stage counts a
    ticket under the service of that stage — issued and called under the service it
    was issued for, transferred under the one it left, served and no-show under the
    one it ended in — so after a transfer a service's rows need not add up. Returns
    ``{"totals": {stage: n}, "by_centre_service": [{centre, service, stage: n…}]}``."""
    p = params.sql()
    totals, rows = dict.fromkeys(TICKET_FUNNEL_KEYS, 0), {}
    for stage, select in _TICKET_STAGES:
        on_day = f"date = %(day)s AND {_BOOKING_FILTER}"
        for centre, service, n in _rows(conn, (
                f"SELECT centre, service, count(*) FROM ({select.format(on_day=on_day)})"
                " AS stage GROUP BY 1, 2"), p):
            row = rows.setdefault((centre, service), dict.fromkeys(TICKET_FUNNEL_KEYS, 0))
            row[stage] = int(n)
            totals[stage] += int(n)
    return {"totals": totals,
            "by_centre_service": [{"centre": centre, "service": service,
                                   **rows[centre, service]}
                                  for centre, service in sorted(rows)]}


TIME_PERCENTILES = (50, 90)  # the median and the 90th percentile, nearest rank


def time_figures(seconds):
    """Issue 17 §3: ``{count, mean, median, p90, max}`` of ``seconds`` (numbers), in
    seconds rounded to 0.001; ``None`` figures without samples. The median and p90 are
    nearest-rank percentiles (as PostgreSQL's ``percentile_disc``: for an even count
    the median is the lower middle), so each is a time someone actually waited; the
    mean is summed in sorted order, so the same samples give the same figure in any
    order (the rebuild reproduces the report byte for byte)."""
    ordered = sorted(seconds)
    count = len(ordered)
    if not count:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}

    def rank(percent):  # the smallest sample with ``percent`` % of them at or below it
        return ordered[max(1, -(-percent * count // 100)) - 1]

    median, p90 = (round(float(rank(percent)), 3) for percent in TIME_PERCENTILES)
    return {"count": count, "mean": round(float(sum(ordered)) / count, 3), "median": median,
            "p90": p90, "max": round(float(ordered[-1]), 3)}


def _time_table(samples):
    """``[(centre, service, seconds), …]`` → ``{"all": figures, "by_centre_service":
    [{centre, service, **figures}, …]}``, centres and services in order."""
    groups = {}
    for centre, service, value in samples:
        groups.setdefault((centre, service), []).append(value)
    return {"all": time_figures(value for _, _, value in samples),
            "by_centre_service": [{"centre": centre, "service": service,
                                   **time_figures(groups[centre, service])}
                                  for centre, service in sorted(groups)]}


def visit_times(conn, params):
    """Issue 17 §3: the tickets of ``params.day`` (their Baku issue day), in seconds:
    ``waiting`` from issue (activation or walk-in print) to the first call, per centre
    and the service called for; ``service`` from the call to served, per centre and
    the service it was served for (after a transfer: the transfer's service and its
    call). Each ``{"all": figures, "by_centre_service": […]}`` (:func:`time_figures`)."""
    p = params.sql()
    waiting = _rows(conn, (
        "SELECT centre, service, extract(epoch FROM called_at - issued_at) FROM ticket_calls"
        f" WHERE first_call AND date = %(day)s AND {_BOOKING_FILTER}"), p)
    served = _rows(conn, (
        "SELECT centre, service, extract(epoch FROM at - called_at) FROM ticket_outcomes"
        f" WHERE outcome = 'served' AND date = %(day)s AND {_BOOKING_FILTER}"), p)
    return {"unit": "s", "waiting": _time_table(waiting), "service": _time_table(served)}


def visit_changes(conn, params):
    """Issue 17 §4–§6: ``closures`` of ``params.day`` (a centre, or one service of it:
    ``service`` null is the whole centre; the reason and how many bookings it
    cancelled), ``reschedules`` (``made`` in the window, visits ``moved_to_day`` and
    ``moved_from_day``) and ``reminders`` (``sent`` in the window, ``for_day``: of the
    visits of the day). A service filter keeps the closures of its centre as a whole."""
    p = params.sql()
    closures = [{"closure_id": str(closure), "centre": centre, "service": service,
                 "reason": reason, "cancelled": int(cancelled), "closed_at": _iso(closed_at)}
                for closure, centre, service, reason, cancelled, closed_at in _rows(conn, (
                    "SELECT closure_id, centre, service, reason, cancelled, closed_at"
                    " FROM closures WHERE date = %(day)s"
                    " AND (%(centre)s::text IS NULL OR centre = %(centre)s)"
                    " AND (%(service)s::text IS NULL OR service IS NULL"
                    "      OR service = %(service)s)"
                    " ORDER BY centre, service NULLS FIRST, closed_at, closure_id"), p)]

    def count(sql):
        return int(conn.execute(f"{sql} AND {_BOOKING_FILTER}", p).fetchone()[0])

    in_window = "%(start)s AND {0} < %(end)s"
    return {
        "closures": closures,
        "bookings_cancelled_by_closures": sum(item["cancelled"] for item in closures),
        "reschedules": {
            "made": count("SELECT count(*) FROM booking_reschedules WHERE rescheduled_at >= "
                          + in_window.format("rescheduled_at")),
            "moved_to_day": count("SELECT count(*) FROM booking_reschedules"
                                  " WHERE visit_date = %(day)s"),
            "moved_from_day": count("SELECT count(*) FROM booking_reschedules"
                                    " WHERE previous_date = %(day)s")},
        "reminders": {
            "sent": count("SELECT count(*) FROM booking_reminders WHERE reminded_at >= "
                          + in_window.format("reminded_at")),
            "for_day": count("SELECT count(*) FROM booking_reminders"
                             " WHERE visit_date = %(day)s")},
    }


def build(conn, params):
    """The whole report of ``params.day`` as a JSON-ready dict."""
    funnel_totals, breakdown = funnel(conn, params)
    tickets = ticket_funnel(conn, params)
    return {
        "day": params.day.isoformat(),
        "as_of": params.as_of.astimezone(BAKU).isoformat(),
        "filters": {"centre": params.centre, "service": params.service},
        "stuck_after_minutes": params.stuck_after.total_seconds() / 60,
        "receipt": receipt(conn, params),
        "response_times": response_times(conn, params),
        "funnel": funnel_totals | {"tickets": tickets["totals"]},
        "by_centre_service": breakdown,
        "failures": failures(conn, params),
        "fin_queries": fin_queries(conn, params),
        "complaints": complaints(conn, params),
        "kiosks": kiosks(conn, params),
        "visit_times": visit_times(conn, params),
        "tickets_by_centre_service": tickets["by_centre_service"],
        "visit_changes": visit_changes(conn, params),
    }
