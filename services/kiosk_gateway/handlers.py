"""The kiosk gateway's use cases: kiosks and their credentials, activation with the
booking service (over RPC), tickets, walk-ins, heartbeats, slowing down guessers."""
import secrets
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

from shared.auth import bearer_token, token_hash
from shared.clock import BAKU, baku_now, baku_today
from shared.errors import Conflict, NotFound, Refusal, Text, TooManyRequests, Unauthorized

from .tickets import Ticket, call_order, print_layouts, ticket_number


@dataclass(frozen=True)
class Policy:
    repeat_window: timedelta = timedelta(minutes=10)
    free_failures: int = 5  # wrong codes in a row before a kiosk is slowed down
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)


# --- kiosks ---------------------------------------------------------------------------

def _emit(uow, kiosk_id, version, name, data):
    stream = f"kiosk-{kiosk_id}"
    uow.append(stream, version, uow.new_event(name, stream, data))


def register_kiosk(uow, centre, known_centres):
    if centre not in known_centres:
        raise NotFound(Text("unknown_centre", "Belə xidmət mərkəzi yoxdur.",
                            "No such service centre."))
    kiosk_id = f"{centre}-k{secrets.token_hex(3)}"
    secret = secrets.token_urlsafe(32)
    uow.conn.execute("INSERT INTO kiosks (kiosk_id, centre, credential_hash, status, version)"
                     " VALUES (%s, %s, %s, 'active', 1)", (kiosk_id, centre, token_hash(secret)))
    _emit(uow, kiosk_id, 0, "KioskRegistered", {"kiosk_id": kiosk_id, "centre": centre})
    return {"kiosk_id": kiosk_id, "centre": centre, "token": f"{kiosk_id}.{secret}"}


def _kiosk_for_update(uow, kiosk_id):
    row = uow.conn.execute("SELECT centre, status, version FROM kiosks WHERE kiosk_id = %s"
                           " FOR UPDATE", (kiosk_id,)).fetchone()
    if row is None:
        raise NotFound(Text("unknown_kiosk", "Belə kiosk yoxdur.", "No such kiosk."))
    return row


def rotate_credential(uow, kiosk_id, now):
    centre, status, version = _kiosk_for_update(uow, kiosk_id)
    if status != "active":
        raise Conflict(Text("revoked", "Kiosk ləğv olunub.", "The kiosk is revoked."))
    secret = secrets.token_urlsafe(32)
    uow.conn.execute("UPDATE kiosks SET credential_hash = %s, rotated_at = %s, version = %s"
                     " WHERE kiosk_id = %s", (token_hash(secret), now, version + 1, kiosk_id))
    _emit(uow, kiosk_id, version, "KioskCredentialRotated", {"kiosk_id": kiosk_id,
                                                              "centre": centre})
    return {"kiosk_id": kiosk_id, "centre": centre, "token": f"{kiosk_id}.{secret}"}


def revoke_kiosk(uow, kiosk_id):
    centre, status, version = _kiosk_for_update(uow, kiosk_id)
    if status == "revoked":
        return {"kiosk_id": kiosk_id, "status": "revoked"}
    uow.conn.execute("UPDATE kiosks SET status = 'revoked', version = %s WHERE kiosk_id = %s",
                     (version + 1, kiosk_id))
    _emit(uow, kiosk_id, version, "KioskRevoked", {"kiosk_id": kiosk_id, "centre": centre})
    return {"kiosk_id": kiosk_id, "status": "revoked"}


NOT_A_KIOSK = Text("kiosk_unauthorized", "Kiosk tanınmadı və ya ləğv olunub.",
                   "Unknown or revoked kiosk.")


def authenticate(conn, request):
    """The kiosk presenting ``Authorization: Bearer <kiosk id>.<secret>``, or 401."""
    token = bearer_token(request) or ""
    kiosk_id, _, secret = token.partition(".")
    row = conn.execute("SELECT centre, credential_hash, status FROM kiosks WHERE kiosk_id = %s",
                       (kiosk_id,)).fetchone() if secret else None
    if row is None or row[2] != "active" or not secrets.compare_digest(row[1], token_hash(secret)):
        raise Unauthorized(NOT_A_KIOSK, headers={"WWW-Authenticate": "Bearer"})
    return kiosk_id, row[0]


def heartbeat(conn, kiosk_id, now):
    conn.execute("UPDATE kiosks SET last_seen = %s WHERE kiosk_id = %s", (now, kiosk_id))


def kiosks_not_seen(conn, now, stale):
    return dict(conn.execute(
        "SELECT centre, count(*) FILTER (WHERE last_seen IS NULL OR last_seen < %s)"
        " FROM kiosks WHERE status = 'active' GROUP BY centre", (now - stale,)).fetchall())


# --- slowing down guessers ----------------------------------------------------------

def check_not_blocked(conn, kiosk_id, now):
    """429 while the kiosk is slowed down. Locks the kiosk's row for the rest of the
    activation: a kiosk's activations take their turns, so a burst of wrong codes
    sent at once is slowed down like the same codes sent one after another (each
    sees the failures before it), not let through before any failure is counted."""
    blocked_until = conn.execute("SELECT blocked_until FROM kiosks WHERE kiosk_id = %s"
                                 " FOR UPDATE", (kiosk_id,)).fetchone()[0]
    if blocked_until and blocked_until > now:
        wait = int((blocked_until - now).total_seconds()) + 1
        raise TooManyRequests(Text(
            "slowed_down", f"Çoxlu səhv kod daxil edildi; {wait} saniyə sonra yenidən cəhd edin.",
            f"Too many wrong codes; try again in {wait} seconds."), retry_after=wait)


def count_failure(conn, kiosk_id, now, policy):
    failures = conn.execute("UPDATE kiosks SET failures = failures + 1 WHERE kiosk_id = %s"
                            " RETURNING failures", (kiosk_id,)).fetchone()[0]
    if failures >= policy.free_failures:
        delay = min(policy.base_delay * 2 ** (failures - policy.free_failures), policy.max_delay)
        conn.execute("UPDATE kiosks SET blocked_until = %s WHERE kiosk_id = %s",
                     (now + delay, kiosk_id))
        return True
    return False


def reset_failures(conn, kiosk_id):
    conn.execute("UPDATE kiosks SET failures = 0, blocked_until = NULL WHERE kiosk_id = %s",
                 (kiosk_id,))


# --- tickets --------------------------------------------------------------------------

def _row_to_ticket(row):
    return Ticket(str(row[0]), row[1], row[2], row[3], row[4], row[5], row[6],
                  str(row[7]) if row[7] else None, row[8], row[9], row[10].astimezone(BAKU))


_TICKET_COLUMNS = ("ticket_id, centre, day, number, sequence, series, service, booking_id,"
                   " booked_time, kiosk_id, issued_at")


def ticket_of_booking(conn, booking_id):
    row = conn.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE booking_id = %s",
                       (booking_id,)).fetchone()
    return _row_to_ticket(row) if row else None


def issue_ticket(uow, centre, service, prefix, series, kiosk_id, now, booking=None):
    """The next number of the centre's series for today (Baku), gap-free."""
    day = baku_today(now)
    sequence = uow.conn.execute(
        "INSERT INTO ticket_counters (centre, day, series, last) VALUES (%s, %s, %s, 1)"
        " ON CONFLICT (centre, day, series) DO UPDATE SET last = ticket_counters.last + 1"
        " RETURNING last", (centre, day, f"{service}:{series}")).fetchone()[0]
    ticket = Ticket(str(uuid.uuid4()), centre, day, ticket_number(prefix, series, sequence),
                    sequence, series, service, booking["booking_id"] if booking else None,
                    _time(booking["time"]) if booking else None, kiosk_id, now.astimezone(BAKU))
    uow.conn.execute(
        f"INSERT INTO tickets ({_TICKET_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s)", (ticket.ticket_id, centre, day, ticket.number, sequence, series, service,
                 ticket.booking_id, ticket.booked_time, kiosk_id, now))
    stream = f"ticket-{ticket.ticket_id}"
    uow.append(stream, 0, uow.new_event("TicketIssued", stream, {
        "ticket_id": ticket.ticket_id, "centre": centre, "date": day.isoformat(),
        "number": ticket.number, "sequence": sequence, "series": series, "service": service,
        "booking_id": ticket.booking_id,
        "booked_time": booking["time"] if booking else None, "kiosk_id": kiosk_id,
        "issued_at": now.isoformat()}))
    return ticket


def _time(text):
    return time.fromisoformat(text)


def ticket_view(ticket, catalogue):
    centre = catalogue["centres"][ticket.centre]
    service = catalogue["services"][ticket.service]
    return {"ticket_id": ticket.ticket_id, "number": ticket.number, "series": ticket.series,
            "service": {"code": ticket.service, "az": service["az"], "en": service["en"]},
            "centre": {"code": ticket.centre, "az": centre["az"], "en": centre["en"]},
            "date": ticket.day.isoformat(),
            "booked_time": ticket.booked_time.strftime("%H:%M") if ticket.booked_time else None,
            "issued_at": ticket.issued_at.isoformat(),
            "print": print_layouts(ticket, centre["az"], f"{service['az']} / {service['en']}")}


INVALID_CODE = Text("invalid_code", "Sifariş kodu etibarlı deyil. Kodu yoxlayın və ya 108-ə zəng"
                    " edin.", "The order code is not valid. Check the code or call 108.")


def refusal_for(outcome, result, catalogue):
    if outcome == "other_centre":
        centre = catalogue["centres"][result["centre"]]
        return Conflict(Text("other_centre", f"Bu növbə başqa mərkəzə aiddir: {centre['az']}.",
                             f"This booking is for another centre: {centre['en']}."))
    if outcome == "too_early":
        opens = result["from"][11:16]
        return Refusal(Text("too_early", f"Hələ tezdir: növbəni saat {opens}-dan aktivləşdirmək"
                            " olar.", f"Too early: the booking can be activated from {opens}."),
                       status=409, error="too_early")
    if outcome == "lapsed":
        return Refusal(Text("lapsed", "Təyin olunmuş vaxt keçib; növbə qüvvədən düşüb.",
                            "The booked time has passed; the booking has lapsed."),
                       status=410, error="lapsed")
    return NotFound(INVALID_CODE, error="invalid_code")


def activate(uow, booking_rpc, catalogue, kiosk_id, centre, order_code, now, policy):
    """Q-7 with D-5: the kiosk asks us, we ask booking. Returns (ticket view, refusal);
    a refusal's bookkeeping (a failure counted, a refusal recorded) is committed."""
    check_not_blocked(uow.conn, kiosk_id, now)
    result = booking_rpc.activate(order_code, centre, kiosk_id)
    outcome = result["outcome"]
    if outcome == "already_activated":
        existing = ticket_of_booking(uow.conn, result["booking_id"])
        repeat = result["kiosk_id"] == kiosk_id and (
            existing is None or now - existing.issued_at <= policy.repeat_window)
        if not repeat:
            outcome = "invalid"  # a used code: the same answer as an unknown one
        elif existing is not None:
            return ticket_view(existing, catalogue), None
        else:
            outcome = "activated"  # we died after booking said yes: issue it now
    if outcome != "activated":
        if outcome == "invalid":
            count_failure(uow.conn, kiosk_id, now, policy)
        stream = f"kiosk-{kiosk_id}-refusals"
        uow.append(stream, None, uow.new_event("ActivationRefused", stream, {
            "kiosk_id": kiosk_id, "centre": centre, "reason": outcome, "at": now.isoformat()}))
        return None, refusal_for(outcome, result, catalogue)
    reset_failures(uow.conn, kiosk_id)
    service = catalogue["services"][result["service"]]
    ticket = issue_ticket(uow, centre, result["service"], service["prefix"], "booked", kiosk_id,
                          now, booking=result)
    return ticket_view(ticket, catalogue), None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_hours(catalogue, centre, now):
    """(opens, closes) as ``"HH:MM"`` of ``centre`` on the Baku day of ``now``, or
    ``None`` when it is closed that day (a weekend, a public holiday)."""
    day = baku_today(now)
    if day.isoformat() in catalogue.get("closed_days", ()):
        return None
    hours = catalogue["centres"][centre].get("hours", {}).get(WEEKDAYS[day.weekday()])
    return tuple(hours) if hours else None


def closed_refusal(catalogue, centre, now):
    """A walk-in ticket is printed only while the centre is open (Baku wall-clock
    time); the refusal says today's hours."""
    hours = opening_hours(catalogue, centre, now)
    moment = baku_now(now).strftime("%H:%M")
    if hours and hours[0] <= moment < hours[1]:
        return None
    if hours:
        return Conflict(Text("centre_closed",
                             f"Mərkəz indi bağlıdır; bu gün {hours[0]}–{hours[1]} işləyir.",
                             f"The centre is closed now; today it is open {hours[0]}–{hours[1]}."))
    return Conflict(Text("centre_closed", "Mərkəz bu gün işləmir.",
                         "The centre is closed today."))


def walk_in(uow, catalogue, kiosk_id, centre, service_code, now):
    """A ticket without a booking, while the centre is open (Baku time)."""
    centre_info = catalogue["centres"][centre]
    if service_code not in centre_info["services"]:
        raise NotFound(Text("not_offered", "Bu xidmət bu mərkəzdə göstərilmir.",
                            "This service is not offered at this centre."))
    closed = closed_refusal(catalogue, centre, now)
    if closed:
        raise closed
    service = catalogue["services"][service_code]
    ticket = issue_ticket(uow, centre, service_code, service["prefix"], "walk_in", kiosk_id, now)
    return ticket_view(ticket, catalogue)


def queue(conn, centre, now):
    """Today's tickets of a centre in the order they will be called."""
    day = baku_today(now)
    rows = conn.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE centre = %s AND day = %s",
                        (centre, day)).fetchall()
    return [{"number": t.number, "series": t.series, "service": t.service,
             "booked_time": t.booked_time.strftime("%H:%M") if t.booked_time else None,
             "issued_at": t.issued_at.isoformat()}
            for t in call_order(_row_to_ticket(row) for row in rows)]
