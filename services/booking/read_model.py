"""The booking service's read models — ``bookings`` (what operators search, what the
sweeps and the kiosk look up), ``slot_usage`` (places taken per slot) and ``closures``
(the days closed by staff, issue 17 §6) — written
only here, as projections of the service's own events (D-1, issue 16). The write
path (``shared.runtime.eventstore.UnitOfWork.flush``) calls :func:`apply` in the transaction
that appends each event; ``python -m shared.ops.rebuild booking --check`` calls it on the
whole event log and compares.

Slot capacity (Q-1) is an invariant of the projection: a ``BookingRequested`` takes
its place with one conditional statement on the slot's one row (PostgreSQL locks the
row and re-checks ``taken < capacity`` on its latest version for every concurrent
request), and when no place is left :func:`apply` raises the 409 ``slot_full``
refusal, which rolls the whole command back: never an event without its place.
"""
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from shared.vocabulary.errors import Conflict, Reason, Text
from shared.vocabulary.identity import canonical_id_card

from . import domain
from .events import (CATALOG, BookingActivated, BookingCancelled, BookingLapsed, BookingReminded,
                     BookingRefused, BookingRequested, BookingRescheduled, BookingVoided,
                     CentreClosed, CodeConfirmed, HoldExpired, OrderCodeReissued)
from .reference import ReferenceData

TABLES = ("bookings", "slot_usage", "closures")
# What a difference found by shared.ops.rebuild may print: no personal data.
CHECK_SHOWN = {"bookings": ("booking_id", "status", "version"),
               "slot_usage": ("centre", "service", "day", "slot_time", "taken"),
               "closures": ("closure_id", "centre", "service", "day", "cancelled")}

SLOT_FULL = Text("slot_full", "Bu saatda boş yer qalmayıb; başqa vaxt seçin.",
                 "This time is fully booked; please choose another time.")

# The status each event leaves a booking in; a hold given back frees its place.
STATUS = {CodeConfirmed: "confirmed", BookingVoided: "void", HoldExpired: "expired",
          BookingCancelled: "cancelled", BookingActivated: "activated",
          BookingLapsed: "lapsed"}
FREES_PLACE = frozenset(("void", "expired", "cancelled"))


@lru_cache(maxsize=1)
def _reference():
    return ReferenceData.load()


def capacity(service):
    """Places per slot of ``service`` (its counters), from the reference data."""
    known = _reference().services.get(service)
    return known.counters if known else 0


def apply(conn, recorded):
    """Write the change ``recorded`` (a ``RecordedEvent`` of a booking stream) makes.

    Raises ``Conflict(slot_full)`` when a ``BookingRequested`` finds its slot full.
    Deterministic: every value comes from the event (``updated_at`` is its time)."""
    event = CATALOG.read(recorded.type, recorded.data)
    if isinstance(event, BookingRequested):
        _take_place(conn, event)
        applicant = event.applicant
        conn.execute(
            "INSERT INTO bookings (booking_id, status, centre, service, day, slot_time, name,"
            " surname, patronymic, id_card, phone, email, language, channel, hold_expires_at,"
            " version, requested_at, client_address, updated_at) VALUES (%s, 'requested', %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (event.booking_id, event.centre, event.service, event.date, event.time,
             applicant["name"], applicant["surname"], applicant["patronymic"],
             # Events keep what was typed; the table has the canonical card (as
             # migration 0104 made of older rows).
             canonical_id_card(applicant["id_card"]) or applicant["id_card"],
             applicant["phone"], applicant["email"], event.language,
             event.channel, event.hold_expires_at, recorded.version, event.requested_at,
             event.client_address, recorded.envelope.time))
        return
    if isinstance(event, CentreClosed):
        _close_day(conn, event)
        return
    if isinstance(event, BookingRefused):
        return  # a record of its own stream, no row
    booking_id = event.booking_id
    status = STATUS.get(type(event))
    if isinstance(event, AFTER_CONFIRMATION):
        _apply_after_confirmation(conn, event)
    if status in FREES_PLACE:
        conn.execute(
            "UPDATE slot_usage u SET taken = taken - 1 FROM bookings b"
            " WHERE b.booking_id = %s AND u.centre = b.centre AND u.service = b.service"
            " AND u.day = b.day AND u.slot_time = b.slot_time", (booking_id,))
    conn.execute(
        "UPDATE bookings SET status = coalesce(%s, status),"
        " order_code_hash = coalesce(%s, order_code_hash), version = %s,"
        " activated_at = coalesce(%s, activated_at), activated_by = coalesce(%s, activated_by),"
        " updated_at = %s WHERE booking_id = %s",
        (status,
         event.order_code_hash if isinstance(event, (CodeConfirmed, OrderCodeReissued)) else None,
         recorded.version, *((event.activated_at, event.kiosk_id)
                             if isinstance(event, BookingActivated) else (None, None)),
         recorded.envelope.time, booking_id))


def _close_day(conn, event):
    """Issue 17 §6: a closure, for the slot lists and the service catalogue (its day's
    bookings were cancelled by their own events)."""
    conn.execute(
        "INSERT INTO closures (closure_id, centre, service, day, reason, closed_at, cancelled)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (event.closure_id, event.centre, event.service, event.date, event.reason,
         event.closed_at, event.cancelled))


def _take_place(conn, event):
    """One place of the slot of ``event`` (a ``BookingRequested`` or
    ``BookingRescheduled``), or the ``slot_full`` refusal. One statement: the first
    request of a slot creates its row with its place taken."""
    places = capacity(event.service)
    taken = places >= 1 and conn.execute(
        "INSERT INTO slot_usage AS u (centre, service, day, slot_time, capacity, taken)"
        " VALUES (%s, %s, %s, %s, %s, 1) ON CONFLICT (centre, service, day, slot_time)"
        " DO UPDATE SET taken = u.taken + 1 WHERE u.taken < u.capacity RETURNING taken",
        (event.centre, event.service, event.date, event.time, places)).fetchone()
    if not taken:
        raise Conflict(SLOT_FULL, [Reason("time", SLOT_FULL.code, SLOT_FULL.az, SLOT_FULL.en)])


# --- issue 17 §4, §5 ------------------------------------------------------------------
# The events of a confirmed booking's life that change more than its status and
# version (``OrderCodeReissued``'s new hash is kept by the common update).
AFTER_CONFIRMATION = (CodeConfirmed, BookingRescheduled, BookingReminded)


def _apply_after_confirmation(conn, event):
    """When the citizen was told the time (``told_at``), the day reminded for, and for
    a ``BookingRescheduled`` the place: the new slot's is taken (``slot_full`` rolls
    the move back, as for a new booking) and the old one's given back, in the one
    transaction — the booking never holds both places, nor neither."""
    if isinstance(event, CodeConfirmed):
        conn.execute("UPDATE bookings SET told_at = %s WHERE booking_id = %s",
                     (event.confirmed_at, event.booking_id))
    elif isinstance(event, BookingReminded):
        conn.execute("UPDATE bookings SET reminded_for = %s WHERE booking_id = %s",
                     (event.date, event.booking_id))
    elif isinstance(event, BookingRescheduled):
        _take_place(conn, event)
        conn.execute(
            "UPDATE slot_usage SET taken = taken - 1 WHERE centre = %s AND service = %s"
            " AND day = %s AND slot_time = %s",
            (event.centre, event.service, event.previous_date, event.previous_time))
        conn.execute("UPDATE bookings SET day = %s, slot_time = %s, told_at = %s"
                     " WHERE booking_id = %s",
                     (event.date, event.time, event.rescheduled_at, event.booking_id))


# --- the queries: what the handlers read to decide ------------------------------------
# Every read of the tables above is a named function here (the handlers hold no SQL);
# :class:`Queries` gathers them for one connection, the object a test's fake replaces.

@dataclass(frozen=True)
class Found:
    """A booking as the ``bookings`` table has it, found by its order code: the ID
    card in its canonical form and the client address it was booked from (``None``:
    not known)."""
    booking_id: str
    status: str
    centre: str
    service: str
    day: date
    time: time
    id_card: str
    client_address: str | None


def find_by_order_code(conn, key, order_code, lock=False, statuses=("confirmed",)):
    """The :class:`Found` booking of ``order_code`` (canonical:
    ``shared.vocabulary.fields.OrderCode``) among those of ``statuses`` (the newest, when an
    activated one and a confirmed one share a code), else ``None``. ``lock``: its row ``FOR UPDATE``
    until the commit."""
    row = conn.execute(
        "SELECT booking_id, status, centre, service, day, slot_time, id_card, client_address"
        " FROM bookings WHERE order_code_hash = %s AND status = ANY(%s)"
        " ORDER BY requested_at DESC LIMIT 1" + (" FOR UPDATE" if lock else ""),
        (domain.code_hash(key, "order", order_code), list(statuses))).fetchone()
    return None if row is None else Found(str(row[0]), *row[1:])


def unused_order_code(conn, key):
    """A new order code no confirmed booking has (the unique index is the final guard)."""
    for _ in range(10):
        code = domain.new_order_code()
        if find_by_order_code(conn, key, code) is None:
            return code
    raise RuntimeError("could not find an unused order code")  # ~never: 31^8 codes


@dataclass(frozen=True)
class _Count:
    """One counted rule's count, taken under a transaction lock on what it counts (an
    ID card's day, a client's holds): two requests at once cannot both take the last
    place under it. ``query`` gives one row of two columns, a count and an earliest
    expiry (or NULL)."""
    name: str
    lock: str
    query: str
    params: tuple


# A booking that holds a place: confirmed, or held and not lapsed at ``now``.
_ACTIVE_AT = ("(status = 'confirmed' OR (status = 'requested' AND hold_expires_at > %s))")
# Not the booking being moved (none: a new booking).
_EXCEPT = "(%s::uuid IS NULL OR booking_id <> %s::uuid)"
# How each cap on unconfirmed holds finds a client's holds: an email or a phone counts
# together with the address it is typed from (see domain.Policy).
_HELD_BY = {"address": "client_address = %s",
            "email": "lower(email) = lower(%s) AND client_address IS NOT DISTINCT FROM %s",
            "phone": "phone = %s AND client_address IS NOT DISTINCT FROM %s"}


def id_card_count(id_card, visit, now, except_booking=None):
    """The ID card's active bookings of the visit's service on its day, but
    ``except_booking`` (a booking id being moved)."""
    return _Count("id_card", f"{id_card}|{visit.service}|{visit.day}",
                  "SELECT count(*), NULL::timestamptz FROM bookings WHERE id_card = %s"
                  f" AND service = %s AND day = %s AND {_EXCEPT} AND {_ACTIVE_AT}",
                  (id_card, visit.service, visit.day, except_booking, except_booking, now))


def held_counts(policy, holders, address, now):
    """The counts of the caps on unconfirmed holds that apply: holds not expired yet
    and the earliest expiry of ``holders`` ({cap: value}) from ``address``."""
    counts = []
    for what in domain.HOLD_CAPS:  # always in this order (see _locked)
        value = holders.get(what)
        if value is None or not getattr(policy, f"max_holds_per_{what}"):
            continue
        params = (value,) if what == "address" else (value, address)
        counts.append(_Count(what, f"holds|{what}|{value.lower()}|{address}",
                             "SELECT count(*), min(hold_expires_at) FROM bookings"
                             f" WHERE {_HELD_BY[what]} AND status = 'requested'"
                             " AND hold_expires_at > %s", (*params, now)))
    return counts


def day_count(policy, address, visit, now, except_booking=None):
    """``address``'s bookings (held or confirmed) of the visit's service at its centre
    on its day, but ``except_booking``, when ``max_day_per_address`` applies."""
    if not policy.max_day_per_address or address is None:
        return []
    return [_Count("day", f"day|{address}|{visit.centre}|{visit.service}|{visit.day}",
                   "SELECT count(*), NULL::timestamptz FROM bookings WHERE client_address = %s"
                   f" AND centre = %s AND service = %s AND day = %s AND {_EXCEPT}"
                   f" AND {_ACTIVE_AT}",
                   (address, visit.centre, visit.service, visit.day, except_booking,
                    except_booking, now))]


def _locked(conn, counts):
    """{name: (count, earliest expiry)} of ``counts``, in two round trips whatever their
    number: every lock in one statement (in the order given, the same for every
    request, so two requests never wait for each other in a cycle), then every count
    in the next — a statement sees what was committed before it started, so the
    counts include whatever a request that held one of the locks before us did."""
    conn.execute("SELECT " + ", ".join(["pg_advisory_xact_lock(hashtext(%s))"] * len(counts)),
                 [count.lock for count in counts])
    row = conn.execute(
        "SELECT * FROM " + ", ".join(f"({count.query}) AS c{n}" for n, count in enumerate(counts)),
        [param for count in counts for param in count.params]).fetchone()
    return {count.name: (row[2 * n], row[2 * n + 1]) for n, count in enumerate(counts)}


def counts(conn, policy, id_card, visit, address, now, holders=None, except_booking=None):
    """The :class:`~.domain.Counts` of the counted rules for a booking of ``id_card``
    from ``address`` put on ``visit``'s day, each taken under its lock until the
    commit: the ID card's, the address's day (when ``max_day_per_address`` applies)
    and, with ``holders`` (``{"address" | "email" | "phone": value}``: a new booking's),
    the caps on unconfirmed holds. ``except_booking``: the booking being moved, left
    out of every count."""
    counted = _locked(conn, [id_card_count(id_card, visit, now, except_booking),
                             *held_counts(policy, holders or {}, address, now),
                             *day_count(policy, address, visit, now, except_booking)])
    return domain.Counts(id_card=counted["id_card"][0],
                         day=counted["day"][0] if "day" in counted else 0,
                         holds={what: counted[what] for what in domain.HOLD_CAPS
                                if what in counted})


def closed_day(conn, store, centre, day):
    """The :class:`~.domain.ClosedDay` of ``centre`` on ``day``, from its closure
    stream read under a *shared* lock held until the commit: bookings of the day do
    not wait for each other, but a closure (which takes the lock exclusively,
    ``handlers.close_centre``) either comes first and is seen here, or waits for the
    booking to commit and then cancels it."""
    stream = domain.closure_stream(centre, day)
    conn.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))", (stream,))
    return domain.fold_closure(CATALOG.read(event.type, event.data)
                               for event in store.read_stream(conn, stream))


def closed_on(conn, centre, service, day):
    """Whether ``service`` at ``centre`` is closed on ``day`` (the ``closures`` table:
    for the slot lists, which decide nothing)."""
    return conn.execute(
        "SELECT 1 FROM closures WHERE centre = %s AND day = %s"
        " AND (service IS NULL OR service = %s) LIMIT 1", (centre, day, service)).fetchone() \
        is not None


def closures_between(conn, first, last):
    """The closures of the days ``first`` to ``last`` (Baku dates, inclusive), oldest
    day first: ``[{centre, service (None: the whole centre), date}]``, for the service
    catalogue."""
    rows = conn.execute(
        "SELECT centre, service, day FROM closures WHERE day BETWEEN %s AND %s"
        " ORDER BY day, centre, service NULLS FIRST", (first, last)).fetchall()
    return [{"centre": centre, "service": service, "date": day.isoformat()}
            for centre, service, day in rows]


def taken_places(conn, centre, service, day, now):
    """``{slot time: places taken}`` of the service at the centre on the day, holds
    lapsed at ``now`` but not swept yet not counted."""
    return dict(conn.execute(
        "SELECT u.slot_time, u.taken - (SELECT count(*) FROM bookings b WHERE b.centre = u.centre"
        " AND b.service = u.service AND b.day = u.day AND b.slot_time = u.slot_time"
        " AND b.status = 'requested' AND b.hold_expires_at <= %s)"
        " FROM slot_usage u WHERE u.centre = %s AND u.service = %s AND u.day = %s",
        (now, centre, service, day)).fetchall())


# --- the sweeps' picks: ids of the bookings a job acts on, their rows locked (SKIP
# LOCKED: with several instances running, each row is taken by one of them) --------

def lapsed_holds(conn, now, limit, visit=None):
    """Ids of holds lapsed at ``now`` not swept yet, the oldest first, at most ``limit``;
    with ``visit``, only those of its slot."""
    where, params = "", [now]
    if visit is not None:
        where = " AND centre = %s AND service = %s AND day = %s AND slot_time = %s"
        params += [visit.centre, visit.service, visit.day, visit.time]
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'requested' AND hold_expires_at <= %s"
        + where + " ORDER BY hold_expires_at LIMIT %s FOR UPDATE SKIP LOCKED",
        [*params, limit]).fetchall()
    return [str(booking_id) for (booking_id,) in rows]


def past_grace(conn, latest, limit):
    """Ids of confirmed bookings whose slot started before ``latest`` (Baku wall clock:
    now less the grace period), the earliest first, at most ``limit``."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'confirmed'"
        " AND (day < %s OR (day = %s AND slot_time < %s))"
        " ORDER BY day, slot_time LIMIT %s FOR UPDATE SKIP LOCKED",
        (latest.date(), latest.date(), latest.time(), limit)).fetchall()
    return [str(booking_id) for (booking_id,) in rows]


def due_reminders(conn, day, told_before, limit):
    """Ids of confirmed bookings of ``day`` not reminded of it, whose time was not told
    after ``told_before``, by slot time, at most ``limit``."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'confirmed' AND day = %s"
        " AND reminded_for IS DISTINCT FROM day AND (told_at IS NULL OR told_at <= %s)"
        " ORDER BY slot_time LIMIT %s FOR UPDATE SKIP LOCKED",
        (day, told_before, limit)).fetchall()
    return [str(booking_id) for (booking_id,) in rows]


def active_on(conn, centre, service, day):
    """Ids of the bookings held or confirmed of ``centre`` on ``day`` (of ``service``,
    or every service when ``None``), by slot time. Not locked: each booking's stream
    lock orders a closure with its other commands."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE centre = %s AND day = %s"
        " AND (%s::text IS NULL OR service = %s) AND status IN ('requested', 'confirmed')"
        " ORDER BY slot_time, booking_id", (centre, day, service, service)).fetchall()
    return [str(booking_id) for (booking_id,) in rows]


def confirmed_of(conn, id_card, email, day):
    """Ids of the confirmed bookings of ``id_card`` (canonical) on ``day`` whose email is
    ``email`` (as stored, case aside), oldest first."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE id_card = %s AND day = %s"
        " AND lower(email) = lower(%s) AND status = 'confirmed' ORDER BY requested_at",
        (id_card, day, email)).fetchall()
    return [str(booking_id) for (booking_id,) in rows]


SEARCHED = ("booking_id", "status", "centre", "service", "date", "time", "name", "surname",
            "patronymic", "id_card", "phone", "email", "requested_at")


def search(conn, key, criteria):
    """Q-9: the bookings matching any of ``criteria`` (``booking_id``, ``id_card``,
    ``email`` as stored, ``phone``, ``order_code``; at least one), newest first, at
    most 50: ``[{booking_id, status, centre, service, date, time, name, surname,
    patronymic, id_card, phone, email, requested_at}]``."""
    clauses, params = [], []
    for name, clause in (("booking_id", "booking_id = %s"), ("id_card", "id_card = %s"),
                         ("email", "lower(email) = lower(%s)"), ("phone", "phone = %s")):
        if criteria.get(name):
            clauses.append(clause)
            params.append(criteria[name])
    if criteria.get("order_code"):
        clauses.append("order_code_hash = %s")
        params.append(domain.code_hash(key, "order", criteria["order_code"]))
    rows = conn.execute(
        "SELECT booking_id, status, centre, service, day, slot_time, name, surname, patronymic,"
        " id_card, phone, email, requested_at FROM bookings WHERE " + " OR ".join(clauses)
        + " ORDER BY requested_at DESC LIMIT 50", params).fetchall()
    return [{k: (str(v) if k in ("booking_id", "date", "requested_at") else v)
             for k, v in zip(SEARCHED, row)} | {"time": row[5].strftime("%H:%M")}
            for row in rows]


class Queries:
    """The queries above on one connection (and the event store, for the closure
    streams): what the handlers read through, and what a test's in-memory fake
    replaces (tests/unit/booking/fakes.py)."""

    def __init__(self, conn, store=None):
        self.conn, self.store = conn, store

    def find_by_order_code(self, key, order_code, lock=False, statuses=("confirmed",)):
        """:func:`find_by_order_code`."""
        return find_by_order_code(self.conn, key, order_code, lock, statuses)

    def unused_order_code(self, key):
        """:func:`unused_order_code`."""
        return unused_order_code(self.conn, key)

    def counts(self, policy, id_card, visit, address, now, holders=None, except_booking=None):
        """:func:`counts`."""
        return counts(self.conn, policy, id_card, visit, address, now, holders, except_booking)

    def closed_day(self, centre, day):
        """:func:`closed_day`."""
        return closed_day(self.conn, self.store, centre, day)

    def closed_on(self, centre, service, day):
        """:func:`closed_on`."""
        return closed_on(self.conn, centre, service, day)

    def closures_between(self, first, last):
        """:func:`closures_between`."""
        return closures_between(self.conn, first, last)

    def taken_places(self, centre, service, day, now):
        """:func:`taken_places`."""
        return taken_places(self.conn, centre, service, day, now)

    def lapsed_holds(self, now, limit, visit=None):
        """:func:`lapsed_holds`."""
        return lapsed_holds(self.conn, now, limit, visit)

    def past_grace(self, latest, limit):
        """:func:`past_grace`."""
        return past_grace(self.conn, latest, limit)

    def due_reminders(self, day, told_before, limit):
        """:func:`due_reminders`."""
        return due_reminders(self.conn, day, told_before, limit)

    def active_on(self, centre, service, day):
        """:func:`active_on`."""
        return active_on(self.conn, centre, service, day)

    def confirmed_of(self, id_card, email, day):
        """:func:`confirmed_of`."""
        return confirmed_of(self.conn, id_card, email, day)

    def search(self, key, criteria):
        """:func:`search`."""
        return search(self.conn, key, criteria)

    def history(self, booking_id):
        """The events of ``booking_id``'s stream (``RecordedEvent`` s, oldest first)."""
        return self.store.read_stream(self.conn, f"booking-{booking_id}")
