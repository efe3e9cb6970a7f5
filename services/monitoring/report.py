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
* ``fin_queries``, ``complaints`` and ``kiosks``: their figures for the day.

Everything is ordered, so the same read models give the same report, byte for byte:
that is how a rebuild is checked. Only ``dead_letters`` is not from the read models:
it is the broker's count when the report is made, passed in by the caller.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from shared.clock import BAKU

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


def funnel(conn, params):
    """M-2, M-3: what became of the visits booked for ``params.day`` (requested,
    confirmed, activated, lapsed, cancelled…) and the forms refused in the window, by
    reason. Returns ``(totals, breakdown)``, the breakdown one dict per centre and service."""
    p = params.sql()
    where = f"FROM bookings WHERE visit_date = %(day)s AND {_BOOKING_FILTER}"
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


def build(conn, params):
    """The whole report of ``params.day`` as a JSON-ready dict."""
    funnel_totals, breakdown = funnel(conn, params)
    return {
        "day": params.day.isoformat(),
        "as_of": params.as_of.astimezone(BAKU).isoformat(),
        "filters": {"centre": params.centre, "service": params.service},
        "stuck_after_minutes": params.stuck_after.total_seconds() / 60,
        "receipt": receipt(conn, params),
        "response_times": response_times(conn, params),
        "funnel": funnel_totals,
        "by_centre_service": breakdown,
        "failures": failures(conn, params),
        "fin_queries": fin_queries(conn, params),
        "complaints": complaints(conn, params),
        "kiosks": kiosks(conn, params),
    }
