"""The booking service's read models — ``bookings`` (what operators search, what the
sweeps and the kiosk look up), ``slot_usage`` (places taken per slot) and ``closures``
(the days closed by staff, issue 17 §6) — written
only here, as projections of the service's own events (D-1, issue 16). The write
path (``shared.eventstore.UnitOfWork.flush``) calls :func:`apply` in the transaction
that appends each event; ``python -m shared.rebuild booking --check`` calls it on the
whole event log and compares.

Slot capacity (Q-1) is an invariant of the projection: a ``BookingRequested`` takes
its place with one conditional statement on the slot's one row (PostgreSQL locks the
row and re-checks ``taken < capacity`` on its latest version for every concurrent
request), and when no place is left :func:`apply` raises the 409 ``slot_full``
refusal, which rolls the whole command back: never an event without its place.
"""
from functools import lru_cache

from shared.errors import Conflict, Reason, Text
from shared.identity import canonical_id_card

from .reference import ReferenceData

TABLES = ("bookings", "slot_usage", "closures")
# What a difference found by shared.rebuild may print: no personal data.
CHECK_SHOWN = {"bookings": ("booking_id", "status", "version"),
               "slot_usage": ("centre", "service", "day", "slot_time", "taken"),
               "closures": ("closure_id", "centre", "service", "day", "cancelled")}

SLOT_FULL = Text("slot_full", "Bu saatda boş yer qalmayıb; başqa vaxt seçin.",
                 "This time is fully booked; please choose another time.")

# The status each event leaves a booking in; a hold given back frees its place.
STATUS = {"CodeConfirmed": "confirmed", "BookingVoided": "void", "HoldExpired": "expired",
          "BookingCancelled": "cancelled", "BookingActivated": "activated",
          "BookingLapsed": "lapsed"}
FREES_PLACE = frozenset(("void", "expired", "cancelled"))


@lru_cache(maxsize=1)
def _reference():
    return ReferenceData.load()


def capacity(service):
    """Places per slot of ``service`` (its counters), from the reference data."""
    known = _reference().services.get(service)
    return known.counters if known else 0


def apply(conn, event):
    """Write the change ``event`` (a ``RecordedEvent`` of a booking stream) makes.

    Raises ``Conflict(slot_full)`` when a ``BookingRequested`` finds its slot full.
    Deterministic: every value comes from the event (``updated_at`` is its time)."""
    data = event.data
    name = event.type
    booking_id = data.get("booking_id")
    if name == "BookingRequested":
        _take_place(conn, data)
        applicant = data["applicant"]
        conn.execute(
            "INSERT INTO bookings (booking_id, status, centre, service, day, slot_time, name,"
            " surname, patronymic, id_card, phone, email, language, channel, hold_expires_at,"
            " version, requested_at, client_address, updated_at) VALUES (%s, 'requested', %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (booking_id, data["centre"], data["service"], data["date"], data["time"],
             applicant["name"], applicant["surname"], applicant["patronymic"],
             # Events keep what was typed; the table has the canonical card (as
             # migration 0104 made of older rows).
             canonical_id_card(applicant["id_card"]) or applicant["id_card"],
             applicant["phone"], applicant["email"], data["language"],
             data["channel"], data["hold_expires_at"], event.version, data["requested_at"],
             data.get("client_address"), event.envelope.time))
        return
    if name == "CentreClosed":
        _close_day(conn, data)
        return
    status = STATUS.get(name)
    if booking_id is None:
        return  # BookingRefused: a record of its own stream, no row
    if name in AFTER_CONFIRMATION:
        _apply_after_confirmation(conn, name, data)
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
        (status, data.get("order_code_hash"), event.version, data.get("activated_at"),
         data.get("kiosk_id"), event.envelope.time, booking_id))


def _close_day(conn, data):
    """Issue 17 §6: a closure, for the slot lists and the service catalogue (its day's
    bookings were cancelled by their own events)."""
    conn.execute(
        "INSERT INTO closures (closure_id, centre, service, day, reason, closed_at, cancelled)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (data["closure_id"], data["centre"], data["service"], data["date"], data["reason"],
         data["closed_at"], data["cancelled"]))


def _take_place(conn, data):
    """One place of the request's slot, or the ``slot_full`` refusal. One statement:
    the first request of a slot creates its row with its place taken."""
    places = capacity(data["service"])
    taken = places >= 1 and conn.execute(
        "INSERT INTO slot_usage AS u (centre, service, day, slot_time, capacity, taken)"
        " VALUES (%s, %s, %s, %s, %s, 1) ON CONFLICT (centre, service, day, slot_time)"
        " DO UPDATE SET taken = u.taken + 1 WHERE u.taken < u.capacity RETURNING taken",
        (data["centre"], data["service"], data["date"], data["time"], places)).fetchone()
    if not taken:
        raise Conflict(SLOT_FULL, [Reason("time", SLOT_FULL.code, SLOT_FULL.az, SLOT_FULL.en)])


# --- issue 17 §4, §5 ------------------------------------------------------------------
# The events of a confirmed booking's life that change more than its status and
# version (``OrderCodeReissued``'s new hash is kept by the common update).
AFTER_CONFIRMATION = frozenset(("CodeConfirmed", "BookingRescheduled", "BookingReminded"))


def _apply_after_confirmation(conn, name, data):
    """When the citizen was told the time (``told_at``), the day reminded for, and for
    a ``BookingRescheduled`` the place: the new slot's is taken (``slot_full`` rolls
    the move back, as for a new booking) and the old one's given back, in the one
    transaction — the booking never holds both places, nor neither."""
    if name == "CodeConfirmed":
        conn.execute("UPDATE bookings SET told_at = %s WHERE booking_id = %s",
                     (data["confirmed_at"], data["booking_id"]))
    elif name == "BookingReminded":
        conn.execute("UPDATE bookings SET reminded_for = %s WHERE booking_id = %s",
                     (data["date"], data["booking_id"]))
    elif name == "BookingRescheduled":
        _take_place(conn, data)
        conn.execute(
            "UPDATE slot_usage SET taken = taken - 1 WHERE centre = %s AND service = %s"
            " AND day = %s AND slot_time = %s",
            (data["centre"], data["service"], data["previous_date"], data["previous_time"]))
        conn.execute("UPDATE bookings SET day = %s, slot_time = %s, told_at = %s"
                     " WHERE booking_id = %s",
                     (data["date"], data["time"], data["rescheduled_at"], data["booking_id"]))
