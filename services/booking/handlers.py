"""The service layer of booking: one function per use case, each inside a unit of
work given by the caller. Loads a booking by folding its events, lets the domain
decide, records the events and keeps the read models in step."""
import uuid
from dataclasses import dataclass

from shared.clock import BAKU
from shared.email_address import EmailRefused, normalize_email
from shared.errors import Conflict, NotFound, Reason, Text, ValidationFailed
from shared.identity import canonical_order_code

from shared.email_request import RECEIPT_WINDOW

from . import domain

from .reference import slot_start


@dataclass(frozen=True)
class Settings:
    """The booking service's settings: the secret key of the code hashes and the
    :class:`domain.Policy`."""
    code_key: str
    policy: domain.Policy


def load(uow, booking_id):
    """The booking ``booking_id``'s state, its stream locked for the unit of work."""
    return uow.load(f"booking-{booking_id}", domain.fold)


def record(uow, state, events):
    """Append ``events`` (``(type, data)`` pairs) to the booking's stream at its
    version; the unit of work applies them to the read models (``read_model``)."""
    uow.record(state.stream_id, state.version, events)


def _names(reference, visit_or_state, language):
    centre = reference.centres[visit_or_state.centre]
    service = reference.services[visit_or_state.service]
    pick = (lambda item: item.az) if language == "az" else (lambda item: item.en)
    return {"centre": pick(centre), "address": centre.address, "service": pick(service)}


def _expire_stale_holds_of_slot(uow, visit, now):
    """Holds that lapsed but were not swept yet give their places back first."""
    rows = uow.conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'requested' AND hold_expires_at <= %s"
        " AND centre = %s AND service = %s AND day = %s AND slot_time = %s"
        " FOR UPDATE SKIP LOCKED", (now, visit.centre, visit.service, visit.day, visit.time))
    for (booking_id,) in rows.fetchall():
        state = load(uow, booking_id)
        record(uow, state, domain.expire_hold(state, now))


TOO_MANY = Text("already_booked",
                "Bu şəxsiyyət vəsiqəsi ilə həmin gün bu xidmətə artıq növbə götürülüb.",
                "A booking for this service on that day already exists for this ID card.")


@dataclass(frozen=True)
class Count:
    """One rule's count, taken under a transaction lock on what it counts (the ID card's
    day, a client's holds): two requests at once cannot both take the last place
    under it. ``query`` gives one row of two columns, a count and an earliest expiry
    (or NULL)."""
    name: str
    lock: str
    query: str
    params: tuple


def _locked_counts(conn, counts):
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


def _id_card_count(applicant, visit, now):
    """Against hoarding: the ID card's active bookings of the service on the day."""
    return Count("id_card", f"{applicant.id_card}|{visit.service}|{visit.day}",
                 "SELECT count(*), NULL::timestamptz FROM bookings WHERE id_card = %s"
                 " AND service = %s AND day = %s AND status IN ('requested', 'confirmed')"
                 " AND NOT (status = 'requested' AND hold_expires_at <= %s)",
                 (applicant.id_card, visit.service, visit.day, now))


# How each cap on unconfirmed holds finds a client's holds (issue 12): an email or a
# phone counts together with the address it is typed from (see domain.Policy).
HELD_BY = {"address": "client_address = %s",
           "email": "lower(email) = lower(%s) AND client_address IS NOT DISTINCT FROM %s",
           "phone": "phone = %s AND client_address IS NOT DISTINCT FROM %s"}


def _held_counts(policy, holders, address, now):
    """The counts of the caps on unconfirmed holds that apply: holds not expired yet
    and the earliest expiry of ``holders`` ({cap: value}) from ``address``."""
    counts = []
    for what in domain.HOLD_CAPS:  # always in this order (see _locked_counts)
        value = holders.get(what)
        if value is None or not getattr(policy, f"max_holds_per_{what}"):
            continue
        params = (value,) if what == "address" else (value, address)
        counts.append(Count(what, f"holds|{what}|{value.lower()}|{address}",
                            f"SELECT count(*), min(hold_expires_at) FROM bookings"
                            f" WHERE {HELD_BY[what]} AND status = 'requested'"
                            " AND hold_expires_at > %s", (*params, now)))
    return counts


DAY_TAKEN = Text("day_limit", "Bir şəbəkə ünvanından bir mərkəzdə bir xidmətə bir gün üçün ən"
                 " çoxu {cap} növbə götürmək olar (bir ailənin növbələri). Daha çoxu üçün 108"
                 " Çağrı Mərkəzinə zəng edin.",
                 "From one network address at most {cap} bookings of one service at one centre"
                 " on one day can be made (a family's). For more, call the 108 call centre.")


def _day_counts(policy, address, visit, now):
    """``address``'s bookings (held or confirmed) of the visit's service at its centre
    on its day, when ``max_day_per_address`` applies."""
    if not policy.max_day_per_address or address is None:
        return []
    return [Count("day", f"day|{address}|{visit.centre}|{visit.service}|{visit.day}",
                  "SELECT count(*), NULL::timestamptz FROM bookings WHERE client_address = %s"
                  " AND centre = %s AND service = %s AND day = %s AND (status = 'confirmed'"
                  " OR (status = 'requested' AND hold_expires_at > %s))",
                  (address, visit.centre, visit.service, visit.day, now))]


def _day_refusal(policy, counted):
    """409 ``day_limit`` when the address has ``max_day_per_address`` bookings of the
    service at the centre on the day: one client cannot take a day's places, even by
    confirming each with a throw-away email."""
    cap = policy.max_day_per_address
    if "day" not in counted or counted["day"][0] < cap:
        return None
    text = Text(DAY_TAKEN.code, DAY_TAKEN.az.format(cap=cap), DAY_TAKEN.en.format(cap=cap))
    return Conflict(text, [Reason("date", text.code, text.az, text.en)])


def request_booking(uow, reference, settings, applicant, visit, language, channel, now,
                    client_address=None):
    """Q-1, Q-2: hold the slot, record BookingRequested, email the code. Issue 12:
    unconfirmed holds are capped per client address, email and phone. The caller has
    checked ``visit`` against the visit rules (``domain.visit_problems``; the entrypoint
    reports them with the form's other reasons, Q-5): they run once a request."""
    conn = uow.conn
    policy = settings.policy
    # One booking per ID card, service and day (configurable); unconfirmed holds
    # capped per client address, email and phone; a family's bookings a day per address.
    counted = _locked_counts(conn, [
        _id_card_count(applicant, visit, now),
        *_held_counts(policy, {"address": client_address, "email": applicant.email,
                               "phone": applicant.phone}, client_address, now),
        *_day_counts(policy, client_address, visit, now)])
    if counted["id_card"][0] >= policy.max_active_per_id_card:
        raise Conflict(TOO_MANY, [Reason("id_card", TOO_MANY.code, TOO_MANY.az, TOO_MANY.en)])
    held = {what: counted[what] for what in domain.HOLD_CAPS if what in counted}
    capped = domain.holds_refusal(held, policy, now) or _day_refusal(policy, counted)
    if capped is not None:
        raise capped
    # Issue 17 §6: not on a closed day (decided under the closure stream's lock).
    refuse_if_closed(uow, visit.centre, visit.service, visit.day)
    # The slot's place is taken when BookingRequested is applied (read_model): a full
    # slot refuses there, rolling this command back. Lapsed holds give theirs first.
    _expire_stale_holds_of_slot(uow, visit, now)

    booking_id = str(uuid.uuid4())
    code = domain.new_confirmation_code()
    code_hash = domain.code_hash(settings.code_key, "confirm", booking_id, code)
    events = domain.request(booking_id, applicant, visit, language, channel, code_hash, now,
                            settings.policy, client_address)
    state = domain.Booking(booking_id=booking_id)
    record(uow, state, events)
    hold_expires_at = events[0][1]["hold_expires_at"]
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{booking_id}:confirmation-code", "template": "booking_confirmation_code",
        "language": language, "to": applicant.email, "reference": state.stream_id,
        "deliver_by": hold_expires_at,  # the code is of no use after the hold
        "variables": {
            "name": applicant.name, "code": code, "date": visit.day.isoformat(),
            "time": visit.time.strftime("%H:%M"), "hold_minutes": settings.policy.hold_minutes,
            **_names(reference, visit, language)}})
    return {"booking_id": booking_id, "status": "requested", "hold_expires_at": hold_expires_at}


def confirm_booking(uow, reference, settings, booking_id, code, now):
    """Q-3, Q-4, Q-6. Returns the answer; a wrong code raises ``CodeRefused``, whose
    events (the try counted, the request void) are recorded all the same."""
    state = load(uow, booking_id)
    right = state.code_hash is not None and domain.hmac.compare_digest(
        state.code_hash, domain.code_hash(settings.code_key, "confirm", booking_id, code))
    order_code = None
    order_code_hash = None
    if right and state.status == "requested":
        order_code = _unused_order_code(uow.conn, settings.code_key)
        order_code_hash = domain.code_hash(settings.code_key, "order", order_code)
    events, refusal = domain.confirm(state, right, order_code_hash, now)
    record(uow, state, events)
    if refusal is not None:
        raise refusal  # keeps its record: the wrong try counted
    email, language, name = state.email, state.language, state.name
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{booking_id}:order-code", "template": "booking_order_code",
        "language": language, "to": email, "reference": state.stream_id,
        "deliver_by": slot_start(state.day, state.time).isoformat(),  # needed at the kiosk
        "variables": {"name": name, "order_code": domain.format_order_code(order_code),
                      "date": state.day.isoformat(), "time": state.time.strftime("%H:%M"),
                      **_names(reference, state, language)}})
    return {"booking_id": booking_id, "status": "confirmed", "centre": state.centre,
            "service": state.service, "date": state.day.isoformat(),
            "time": state.time.strftime("%H:%M")}


def _unused_order_code(conn, key):
    """An order code no active booking has (the unique index is the final guard)."""
    for _ in range(10):
        code = domain.new_order_code()
        taken = conn.execute("SELECT 1 FROM bookings WHERE order_code_hash = %s"
                             " AND status = 'confirmed'",
                             (domain.code_hash(key, "order", code),)).fetchone()
        if not taken:
            return code
    raise RuntimeError("could not find an unused order code")  # ~never: 31^8 codes


def find_by_order_code(conn, key, order_code, lock=False):
    """The confirmed booking of ``order_code`` (canonical: ``shared.fields.OrderCode``)."""
    code_hash = domain.code_hash(key, "order", order_code)
    return conn.execute(
        "SELECT booking_id FROM bookings WHERE order_code_hash = %s AND status = 'confirmed'"
        + (" FOR UPDATE" if lock else ""), (code_hash,)).fetchone()


def cancel_booking(uow, reference, settings, order_code, now):
    """Q-8 (cancellation with the order code): records ``BookingCancelled`` and emails the
    receipt; an unknown or inactive code is refused like any other (404, no hint which)."""
    row = find_by_order_code(uow.conn, settings.code_key, order_code, lock=True)
    if row is None:
        domain.cancel(domain.Booking(), now)  # raises the uniform refusal
    booking_id = str(row[0])
    state = load(uow, booking_id)
    record(uow, state, domain.cancel(state, now))
    email, language, name = state.email, state.language, state.name
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{booking_id}:cancelled", "template": "booking_cancelled",
        "language": language, "to": email, "reference": state.stream_id,
        "deliver_by": (now + RECEIPT_WINDOW).isoformat(),  # a receipt, bound to no moment
        "variables": {"name": name, "date": state.day.isoformat(),
                      "time": state.time.strftime("%H:%M"), **_names(reference, state, language)}})
    return {"booking_id": booking_id, "status": "cancelled"}


def expire_holds(uow, now, limit=200):
    """The sweep: every lapsed hold gives its place back. Safe with several instances
    running (SKIP LOCKED, and the expected version guards each stream)."""
    rows = uow.conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'requested' AND hold_expires_at <= %s"
        " ORDER BY hold_expires_at LIMIT %s FOR UPDATE SKIP LOCKED", (now, limit)).fetchall()
    for (booking_id,) in rows:
        state = load(uow, str(booking_id))
        record(uow, state, domain.expire_hold(state, now))
    return len(rows)


def activate_booking(uow, settings, order_code, centre, kiosk_id, now, window):
    """Q-7 for the kiosk gateway (over RPC). Returns a plain dict: ``outcome`` and,
    when the code named a booking, what the gateway needs for the ticket. The gateway
    sends the canonical code; anything else an RPC caller sends names no booking."""
    order_code = canonical_order_code(order_code)
    if order_code is None:
        return {"outcome": "invalid"}
    code_hash = domain.code_hash(settings.code_key, "order", order_code)
    row = uow.conn.execute(
        "SELECT booking_id, activated_by, activated_at FROM bookings WHERE order_code_hash = %s"
        " AND status IN ('confirmed', 'activated') ORDER BY requested_at DESC LIMIT 1"
        " FOR UPDATE", (code_hash,)).fetchone()
    if row is None:
        return {"outcome": "invalid"}
    state = load(uow, str(row[0]))
    if state.status == "activated":
        return {"outcome": "already_activated", **domain.slot_of(state), "kiosk_id": row[1],
                "activated_at": row[2].isoformat()}
    events, outcome = domain.activate(state, centre, kiosk_id, now, window)
    record(uow, state, events)
    result = {"outcome": outcome}
    if outcome in ("activated", "too_early", "lapsed"):
        result |= domain.slot_of(state)
    if outcome == "too_early":
        result["from"] = (slot_start(state.day, state.time) - window.early).isoformat()
    if outcome == "other_centre":
        result["centre"] = state.centre
    return result


def lapse_due(uow, now, window, limit=200):
    """Q-8, the scheduled job: confirmed bookings whose time plus grace has passed
    lapse. Correct with several instances running: each row is taken by one of them
    (SKIP LOCKED), and the expected version would refuse a second BookingLapsed."""
    latest = (now.astimezone(BAKU) - window.grace)
    rows = uow.conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'confirmed'"
        " AND (day < %s OR (day = %s AND slot_time < %s))"
        " ORDER BY day, slot_time LIMIT %s FOR UPDATE SKIP LOCKED",
        (latest.date(), latest.date(), latest.time(), limit)).fetchall()
    lapsed = 0
    for (booking_id,) in rows:
        state = load(uow, str(booking_id))
        events = domain.lapse(state, now, window)
        record(uow, state, events)
        lapsed += len(events)
    return lapsed


def refuse_form(uow, reference, reasons, channel, raw, now):
    """Q-5 and M-2: a refused form is an event too (which fields, which reasons; the
    centre and service only when they are codes we know, never what was typed).
    Raises ``FormRefused(reasons)``, recorded with its event."""
    refusal_id = str(uuid.uuid4())
    centre, service = raw.get("centre"), raw.get("service")
    envelope = uow.new_event("BookingRefused", f"refusal-{refusal_id}", {
        "refusal_id": refusal_id, "channel": channel, "refused_at": now.isoformat(),
        "centre": centre if isinstance(centre, str) and centre in reference.centres else None,
        "service": service if isinstance(service, str) and service in reference.services
        else None,
        "reasons": [{"field": reason.field if reason.field in FORM_FIELDS else None,
                     "code": reason.code} for reason in reasons]})
    uow.append(envelope.subject, 0, envelope)
    raise domain.FormRefused(reasons)


# The annex form's fields: a reason about anything else (a key a client made up) is
# recorded without its name, which is typed text too.
FORM_FIELDS = frozenset(("name", "surname", "patronymic", "id_card", "phone", "email", "service",
                         "centre", "date", "time", "language", "channel"))


def free_slots(conn, reference, centre_code, service_code, day, now, policy):
    """Q-1: the free places of each slot of ``service_code`` at ``centre_code`` on ``day``
    (a list of ``{"time", "free", "capacity"}``) and the reasons the day cannot be booked
    (a list of ``Reason``, then no slots); ``NotFound`` for an unknown centre or service."""
    centre = reference.centres.get(centre_code)
    service = reference.services.get(service_code)
    if centre is None or service is None:
        raise NotFound(Text("unknown", "Belə mərkəz və ya xidmət yoxdur.",
                            "No such centre or service."))
    visit = domain.Visit(centre_code, service_code, day, None)
    problems = [p for p in domain.visit_problems(visit, reference, now, policy)
                if p.field != "time"]
    if problems:
        return [], problems
    if closed_on(conn, centre_code, service_code, day):  # issue 17 §6
        text = domain.CENTRE_CLOSED
        return [], [Reason("date", text.code, text.az, text.en)]
    taken = dict(conn.execute(
        "SELECT u.slot_time, u.taken - (SELECT count(*) FROM bookings b WHERE b.centre = u.centre"
        " AND b.service = u.service AND b.day = u.day AND b.slot_time = u.slot_time"
        " AND b.status = 'requested' AND b.hold_expires_at <= %s)"
        " FROM slot_usage u WHERE u.centre = %s AND u.service = %s AND u.day = %s",
        (now, centre_code, service_code, day)).fetchall())
    slots = []
    for moment in reference.slot_times(centre, service, day):
        free = service.counters - taken.get(moment, 0)
        slots.append({"time": moment.strftime("%H:%M"), "free": max(free, 0),
                      "capacity": service.counters})
    return slots, []


def search(conn, key, criteria):
    """Q-9: bookings matching any given criterion, newest first. The ID card, phone
    and order code come in their canonical forms (``OperatorSearchSchema``), the
    forms they are stored and hashed in."""
    clauses, params = [], []
    if criteria.get("booking_id"):
        clauses.append("booking_id = %s")
        params.append(criteria["booking_id"])
    if criteria.get("id_card"):
        clauses.append("id_card = %s")
        params.append(criteria["id_card"])
    if criteria.get("email"):
        clauses.append("lower(email) = lower(%s)")
        params.append(_as_stored(criteria["email"]))
    if criteria.get("phone"):
        clauses.append("phone = %s")
        params.append(criteria["phone"])
    if criteria.get("order_code"):
        clauses.append("order_code_hash = %s")
        params.append(domain.code_hash(key, "order", criteria["order_code"]))
    if not clauses:
        raise ValidationFailed([Reason(None, "no_criteria", "Ən azı bir axtarış meyarı verin.",
                                       "Give at least one search criterion.")])
    rows = conn.execute(
        "SELECT booking_id, status, centre, service, day, slot_time, name, surname, patronymic,"
        " id_card, phone, email, requested_at FROM bookings WHERE " + " OR ".join(clauses)
        + " ORDER BY requested_at DESC LIMIT 50", params).fetchall()
    keys = ("booking_id", "status", "centre", "service", "date", "time", "name", "surname",
            "patronymic", "id_card", "phone", "email", "requested_at")
    return [{k: (str(v) if k in ("booking_id", "date", "requested_at") else v)
             for k, v in zip(keys, row)} | {"time": row[5].strftime("%H:%M")} for row in rows]


def _as_stored(email):
    """An address in the form the form stored it (``LEYLA@XN--BAK-LUA.AZ`` finds
    ``leyla@bakı.az``); one the form would refuse is looked up as typed."""
    try:
        return normalize_email(email)
    except EmailRefused:
        return email.strip()


HIDDEN = ("code_hash", "order_code_hash")


def history(store, conn, booking_id):
    """Q-9: the whole history of a booking, for the call centre (never the codes)."""
    events = store.read_stream(conn, f"booking-{booking_id}")
    if not events:
        raise NotFound(Text("no_booking", "Belə növbə tapılmadı.", "No such booking."))
    return [{"version": event.version, "type": event.type,
             "time": event.envelope.time.astimezone(BAKU).isoformat(),
             "data": {k: v for k, v in event.data.items() if k not in HIDDEN}}
            for event in events]



# --- issue 17 §5: reschedule, and a new order code ---------------------------------

def reschedule_booking(uow, reference, settings, order_code, day, moment, now):
    """Issue 17 §5: the booking of ``order_code`` moves to ``day`` at ``moment`` (same
    centre and service) under a new booking's rules — Q-1 (``domain.reschedule``),
    one per ID card, service and day (counted under the same lock as a new booking's,
    this booking left out), and capacity (the projection takes the new place and
    gives the old one back in this transaction: ``slot_full`` moves nothing). One
    email with the new time; the order code stays valid. An unknown or inactive code
    is refused like cancellation's (404, no hint which)."""
    row = uow.conn.execute(
        "SELECT booking_id, id_card FROM bookings WHERE order_code_hash = %s"
        " AND status = 'confirmed' FOR UPDATE",
        (domain.code_hash(settings.code_key, "order", order_code),)).fetchone()
    if row is None:
        domain.reschedule(domain.Booking(), None, reference, now, settings.policy)  # 404
    booking_id, id_card = str(row[0]), row[1]
    state = load(uow, booking_id)
    visit = domain.Visit(state.centre, state.service, day, moment)
    events = domain.reschedule(state, visit, reference, now, settings.policy)
    refuse_if_closed(uow, visit.centre, visit.service, visit.day)  # §6: not onto a closed day
    counted = _locked_counts(uow.conn, [Count(
        "id_card", f"{id_card}|{visit.service}|{visit.day}",
        "SELECT count(*), NULL::timestamptz FROM bookings WHERE id_card = %s AND service = %s"
        " AND day = %s AND booking_id <> %s AND status IN ('requested', 'confirmed')"
        " AND NOT (status = 'requested' AND hold_expires_at <= %s)",
        (id_card, visit.service, visit.day, booking_id, now))])
    if counted["id_card"][0] >= settings.policy.max_active_per_id_card:
        raise Conflict(TOO_MANY, [Reason("date", TOO_MANY.code, TOO_MANY.az, TOO_MANY.en)])
    _expire_stale_holds_of_slot(uow, visit, now)
    record(uow, state, events)
    moved = events[0][1]
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{booking_id}:rescheduled:{state.version + 1}",
        "template": "booking_rescheduled", "language": state.language, "to": state.email,
        "reference": state.stream_id,
        "deliver_by": slot_start(visit.day, visit.time).isoformat(),
        "variables": {"name": state.name, "date": moved["date"], "time": moved["time"],
                      "previous_date": moved["previous_date"],
                      "previous_time": moved["previous_time"],
                      **_names(reference, state, state.language)}})
    return {"booking_id": booking_id, "status": "confirmed", "centre": state.centre,
            "service": state.service, "date": moved["date"], "time": moved["time"]}


def visit_to_move(conn, settings, order_code, now):
    """Issue 17 §5: what the pages show before a move — ``{centre, service, date,
    time}`` of the confirmed booking of ``order_code`` whose time has not come; nothing
    personal. Refused as :func:`reschedule_booking` refuses (404 ``no_active_booking``,
    no hint which codes exist; 409 ``visit_started``)."""
    row = conn.execute(
        "SELECT centre, service, day, slot_time FROM bookings WHERE order_code_hash = %s"
        " AND status = 'confirmed'",
        (domain.code_hash(settings.code_key, "order", order_code),)).fetchone()
    if row is None:
        domain.movable(None, None, None, now)  # raises the uniform 404
    centre, service, day, moment = row
    domain.movable("confirmed", day, moment, now)
    return {"centre": centre, "service": service, "date": day.isoformat(),
            "time": moment.strftime("%H:%M")}


def confirmed_bookings_of(conn, id_card, email, day):
    """Issue 17 §5 (resend): the confirmed bookings of ``id_card`` (canonical) on ``day``
    whose email is ``email`` (compared as stored, case aside): what the citizen
    identifies a booking by when the order code is lost. A list of booking ids."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE id_card = %s AND day = %s"
        " AND lower(email) = lower(%s) AND status = 'confirmed' ORDER BY requested_at",
        (id_card, day, _as_stored(email))).fetchall()
    return [str(row[0]) for row in rows]


def reissue_order_code(uow, reference, settings, booking_id, now):
    """Issue 17 §5 (resend): the booking gets a new order code (the old one stops
    working: only hashes are kept, so it cannot be sent again), emailed to the
    booking's own address. Nothing when it is no longer confirmed."""
    state = load(uow, booking_id)
    order_code = _unused_order_code(uow.conn, settings.code_key)
    events = domain.reissue_order_code(
        state, domain.code_hash(settings.code_key, "order", order_code), now)
    if not events:
        return False
    record(uow, state, events)
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{booking_id}:order-code:{state.version + 1}",
        "template": "booking_order_code_reissued", "language": state.language,
        "to": state.email, "reference": state.stream_id,
        "deliver_by": slot_start(state.day, state.time).isoformat(),  # needed at the kiosk
        "variables": {"name": state.name, "order_code": domain.format_order_code(order_code),
                      "date": state.day.isoformat(), "time": state.time.strftime("%H:%M"),
                      **_names(reference, state, state.language)}})
    return True


# --- issue 17 §4: the reminder the day before ----------------------------------------

def remind_due(uow, reference, now, reminders, limit=200):
    """Issue 17 §4, the scheduled job: confirmed bookings whose visit is tomorrow
    (Baku) get ``BookingReminded`` and the reminder email, from ``reminders.hour`` on.
    Once per booking and day with several instances running: each row is taken by
    one of them (SKIP LOCKED), the domain sees ``reminded_for`` in the stream, and
    the expected version refuses a second append. Returns how many bookings it took
    (at most ``limit``: the caller runs it again, each chunk its own transaction)."""
    day = reminders.due_day(now)
    if day is None:
        return 0
    rows = uow.conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'confirmed' AND day = %s"
        " AND reminded_for IS DISTINCT FROM day AND (told_at IS NULL OR told_at <= %s)"
        " ORDER BY slot_time LIMIT %s FOR UPDATE SKIP LOCKED",
        (day, now - reminders.quiet, limit)).fetchall()
    for (booking_id,) in rows:
        state = load(uow, str(booking_id))
        events = domain.remind(state, now, reminders)
        if not events:
            continue
        record(uow, state, events)
        uow.send_private("EmailRequested", state.stream_id, {
            "intent_id": f"{state.booking_id}:reminder:{state.day.isoformat()}",
            "template": "booking_reminder", "language": state.language, "to": state.email,
            "reference": state.stream_id,
            "deliver_by": slot_start(state.day, state.time).isoformat(),
            "variables": {"name": state.name, "date": state.day.isoformat(),
                          "time": state.time.strftime("%H:%M"),
                          **_names(reference, state, state.language)}})
    return len(rows)


# --- closures (issue 17 §6) ---------------------------------------------------------

def refuse_if_closed(uow, centre, service, day):
    """Raises 409 ``centre_closed`` when ``service`` at ``centre`` is closed on ``day``.
    Every command that puts a booking on a day (a new booking, a reschedule to it)
    calls it in its unit of work before recording: it holds the day's closure stream
    under a *shared* lock until the commit, so bookings do not wait for each other,
    but a closure (which takes the lock exclusively, :func:`close_centre`) either
    comes first and is seen here, or waits for this booking to commit and cancels it."""
    stream = domain.closure_stream(centre, day)
    uow.conn.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))", (stream,))
    state = domain.fold_closure((event.type, event.data)
                                for event in uow.store.read_stream(uow.conn, stream))
    refusal = domain.closed_refusal(state, service)
    if refusal is not None:
        raise refusal


def closed_on(conn, centre, service, day):
    """Whether ``service`` at ``centre`` is closed on ``day`` (the ``closures`` read
    model: for the slot lists, which decide nothing)."""
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


def close_centre(uow, reference, closure, now, book_again_url):
    """Issue 17 §6: close ``closure.centre`` (or one service at it) on ``closure.day``.
    In one transaction: every booking of that day held or confirmed is cancelled
    (``BookingCancelled`` by closure, its place freed, an email saying why with a link
    to book again, ``book_again_url``), then ``CentreClosed`` is recorded with their
    number. Raises 400 (:func:`domain.closure_problems`) or 409 ``already_closed``.

    The closure stream is locked first (exclusively): a booking of that day being
    made now (:func:`refuse_if_closed`, shared lock) has committed before the query
    below reads the day's bookings, or waits and is refused after this commits."""
    state = uow.load(domain.closure_stream(closure.centre, closure.day), domain.fold_closure)
    domain.check_close(state, closure, reference, now)
    closure_id = str(uuid.uuid4())
    # Not FOR UPDATE: each booking's stream lock (load) orders us with its other
    # commands, and the decision is taken on its events, not on this row.
    rows = uow.conn.execute(
        "SELECT booking_id FROM bookings WHERE centre = %s AND day = %s"
        " AND (%s::text IS NULL OR service = %s) AND status IN ('requested', 'confirmed')"
        " ORDER BY slot_time, booking_id",
        (closure.centre, closure.day, closure.service, closure.service)).fetchall()
    cancelled = 0
    for (booking_id,) in rows:
        booking = load(uow, str(booking_id))
        events = domain.cancel_for_closure(booking, closure_id, closure, now)
        record(uow, booking, events)
        if any(name == "BookingCancelled" for name, _ in events):
            cancelled += 1
            _email_closure(uow, reference, booking, closure, book_again_url, now)
    uow.record(domain.closure_stream(closure.centre, closure.day), state.version,
               domain.close(closure_id, closure, now, cancelled))
    return {"closure_id": closure_id, "centre": closure.centre, "service": closure.service,
            "date": closure.day.isoformat(), "reason": closure.reason,
            "closed_at": now.isoformat(), "cancelled": cancelled}


def _email_closure(uow, reference, state, closure, book_again_url, now):
    """The email of a booking cancelled by a closure: why, in the booking's language,
    and where to book again."""
    language = state.language
    uow.send_private("EmailRequested", state.stream_id, {
        "intent_id": f"{state.booking_id}:closed", "template": "booking_closed",
        "language": language, "to": state.email, "reference": state.stream_id,
        "deliver_by": (now + RECEIPT_WINDOW).isoformat(),
        "variables": {"name": state.name, "date": state.day.isoformat(),
                      "time": state.time.strftime("%H:%M"),
                      "reason": domain.closure_reason_words(closure.reason, language),
                      "book_again_url": book_again_url,
                      "whole_centre": closure.service is None,
                      **_names(reference, state, language)}})
