"""The kiosk gateway's use cases: kiosks and their credentials, activation with the
booking service (over RPC), tickets, walk-ins, heartbeats, slowing down guessers.

Each loads the state it decides on (a kiosk's stream folded, or the fold kept in a
read-model row, locked), lets :mod:`.domain` decide, and appends the events; the unit
of work applies them to the read models (:mod:`.read_model`, the only writer of the
tables). Domain refusals become refusals in both languages here (``shared.http``
gives each kind its status)."""
import base64
import secrets
import uuid

from shared.auth import bearer_token, token_hash
from shared.errors import Conflict, Gone, NotFound, Text, TooManyRequests, Unauthorized

from . import domain, read_model
from .tickets import call_order, escpos, print_layouts


# --- refusals, in words ---------------------------------------------------------------

UNKNOWN_CENTRE = Text("unknown_centre", "Belə xidmət mərkəzi yoxdur.", "No such service centre.")
UNKNOWN_KIOSK = Text("unknown_kiosk", "Belə kiosk yoxdur.", "No such kiosk.")
REVOKED = Text("revoked", "Kiosk ləğv olunub.", "The kiosk is revoked.")
NOT_OFFERED = Text("not_offered", "Bu xidmət bu mərkəzdə göstərilmir.",
                   "This service is not offered at this centre.")


def refusal_of(refused):
    """The refusal, in its kind and both languages, of a domain :class:`~.domain.KioskRefusal`
    (shared.http gives the kind its status)."""
    if isinstance(refused, domain.UnknownCentre):
        return NotFound(UNKNOWN_CENTRE)
    if isinstance(refused, domain.UnknownKiosk):
        return NotFound(UNKNOWN_KIOSK)
    if isinstance(refused, domain.KioskIsRevoked):
        return Conflict(REVOKED)
    if isinstance(refused, domain.NotOffered):
        return NotFound(NOT_OFFERED)
    if isinstance(refused, domain.CentreClosed):
        hours = refused.hours
        if hours:
            return Conflict(Text(
                "centre_closed", f"Mərkəz indi bağlıdır; bu gün {hours[0]}–{hours[1]} işləyir.",
                f"The centre is closed now; today it is open {hours[0]}–{hours[1]}."))
        return Conflict(Text("centre_closed", "Mərkəz bu gün işləmir.",
                             "The centre is closed today."))
    if isinstance(refused, domain.SlowedDown):
        wait = refused.wait
        return TooManyRequests(Text(
            "slowed_down", f"Çoxlu səhv kod daxil edildi; {wait} saniyə sonra yenidən cəhd edin.",
            f"Too many wrong codes; try again in {wait} seconds."), retry_after=wait)
    raise TypeError(f"no HTTP answer for {refused!r}")


def _decided(decide, *args):
    try:
        return decide(*args)
    except domain.KioskRefusal as refused:
        raise refusal_of(refused) from None


# --- kiosks -------------------------------------------------------------------------

def _load(uow, kiosk_id):
    return uow.load(domain.kiosk_stream(kiosk_id), domain.fold)


def register_kiosk(uow, centre, known_centres):
    """D-5: a new kiosk of ``centre``; its token is shown once, only its hash kept."""
    kiosk_id = f"{centre}-k{secrets.token_hex(3)}"
    secret = secrets.token_urlsafe(32)
    uow.record(domain.kiosk_stream(kiosk_id), 0, _decided(
        domain.decide_register, kiosk_id, centre, known_centres, token_hash(secret)))
    return {"kiosk_id": kiosk_id, "centre": centre, "token": f"{kiosk_id}.{secret}"}


def rotate_credential(uow, kiosk_id):
    """D-5: a new secret for kiosk ``kiosk_id``, the old one stops working. Returns
    ``{kiosk_id, centre, token}``, the token shown once; 404 ``unknown_kiosk``, 409
    ``revoked``."""
    state = _load(uow, kiosk_id)
    secret = secrets.token_urlsafe(32)
    uow.record(domain.kiosk_stream(kiosk_id), state.version,
               _decided(domain.decide_rotate, state, token_hash(secret)))
    return {"kiosk_id": kiosk_id, "centre": state.centre, "token": f"{kiosk_id}.{secret}"}


def revoke_kiosk(uow, kiosk_id):
    """D-5: the kiosk is refused from now on (revoking it again changes nothing).
    Returns ``{kiosk_id, status}``; 404 ``unknown_kiosk``."""
    state = _load(uow, kiosk_id)
    uow.record(domain.kiosk_stream(kiosk_id), state.version,
               _decided(domain.decide_revoke, state))
    return {"kiosk_id": kiosk_id, "status": "revoked"}


NOT_A_KIOSK = Text("kiosk_unauthorized", "Kiosk tanınmadı və ya ləğv olunub.",
                   "Unknown or revoked kiosk.")


def authenticate(conn, request):
    """The kiosk presenting ``Authorization: Bearer <kiosk id>.<secret>``, or 401."""
    token = bearer_token(request) or ""
    kiosk_id, _, secret = token.partition(".")
    row = read_model.credential(conn, kiosk_id) if secret else None
    if row is None or row[2] != "active" or not secrets.compare_digest(row[1], token_hash(secret)):
        raise Unauthorized(NOT_A_KIOSK, headers={"WWW-Authenticate": "Bearer"})
    return kiosk_id, row[0]


def heartbeat(conn, kiosk_id, now):
    """The kiosk was alive at ``now``: telemetry, no event (the caller commits)."""
    read_model.record_heartbeat(conn, kiosk_id, now)


# --- tickets --------------------------------------------------------------------------

def issue_ticket(uow, centre, service, prefix, series, kiosk_id, now, booking=None):
    """The next number of the centre's series for today (Baku), gap-free: the
    series' counter row is locked until commit (read_model.last_ticket)."""
    last = read_model.last_ticket(uow.conn, centre, domain.ticket_day(now), service, series)
    return _record_ticket(uow, domain.decide_ticket(str(uuid.uuid4()), last, centre, service,
                                                    prefix, series, kiosk_id, now, booking))


def _record_ticket(uow, events):
    (_, data), = events
    uow.record(f"ticket-{data['ticket_id']}", 0, events)
    return domain.ticket_of(data)


def ticket_view(ticket, catalogue):
    """The answer for ``ticket`` (``api.TicketResponse``): service and centre named in
    ``az`` and ``en`` from ``catalogue``, times as ISO strings, its text for 32- and
    48-column printers, and its ESC/POS bytes (base64) for an 80 mm thermal printer."""
    centre = catalogue["centres"][ticket.centre]
    service = catalogue["services"][ticket.service]
    return {"ticket_id": ticket.ticket_id, "number": ticket.number, "series": ticket.series,
            "service": {"code": ticket.service, "az": service["az"], "en": service["en"]},
            "centre": {"code": ticket.centre, "az": centre["az"], "en": centre["en"]},
            "date": ticket.day.isoformat(),
            "booked_time": ticket.booked_time.strftime("%H:%M") if ticket.booked_time else None,
            "issued_at": ticket.issued_at.isoformat(),
            "print": print_layouts(ticket, centre["az"], f"{service['az']} / {service['en']}"),
            "escpos": base64.b64encode(escpos(ticket, centre["az"],
                                              f"{service['az']} / {service['en']}")).decode()}


INVALID_CODE = Text("invalid_code", "Sifariş kodu etibarlı deyil. Kodu yoxlayın və ya 108-ə zəng"
                    " edin.", "The order code is not valid. Check the code or call 108.")


def refusal_for(outcome, result, catalogue):
    """The refusal of an activation refused with ``outcome`` (Q-7, Q-8): a conflict
    ``other_centre`` naming the booked centre, a conflict ``too_early`` with the time
    it opens (``result["from"]``), ``lapsed`` (gone); anything else not found
    ``invalid_code``, alike for an unknown, used or cancelled code. Each keeps its
    record (the kiosk's refusal counted before it is answered)."""
    if outcome == "other_centre":
        centre = catalogue["centres"][result["centre"]]
        return Conflict(Text("other_centre", f"Bu növbə başqa mərkəzə aiddir: {centre['az']}.",
                             f"This booking is for another centre: {centre['en']}."),
                        keeps_record=True)
    if outcome == "too_early":
        opens = result["from"][11:16]
        return Conflict(Text("too_early", f"Hələ tezdir: növbəni saat {opens}-dan aktivləşdirmək"
                             " olar.", f"Too early: the booking can be activated from {opens}."),
                        error="too_early", keeps_record=True)
    if outcome == "lapsed":
        return Gone(Text("lapsed", "Təyin olunmuş vaxt keçib; növbə qüvvədən düşüb.",
                         "The booked time has passed; the booking has lapsed."),
                    error="lapsed", keeps_record=True)
    return NotFound(INVALID_CODE, error="invalid_code", keeps_record=True)


def activate(uow, booking_rpc, catalogue, kiosk_id, centre, order_code, now, policy):
    """Q-7 with D-5: the kiosk asks us, we ask booking. Returns the ticket view; a
    refused activation raises its refusal (:func:`refusal_for`), whose bookkeeping (a
    failure counted, ``ActivationRefused`` recorded) is committed all the same."""
    throttle = read_model.throttle(uow.conn, kiosk_id)
    _decided(domain.check_not_blocked, throttle, now)
    result = booking_rpc.activate(order_code, centre, kiosk_id)
    existing = read_model.ticket_of_booking(uow.conn, result["booking_id"]) \
        if result["outcome"] == "already_activated" else None
    outcome = domain.activation_outcome(result, existing, kiosk_id, now, policy)
    if outcome == "repeat":
        return ticket_view(existing, catalogue)
    if outcome != "activated":
        uow.record(f"kiosk-{kiosk_id}-refusals", None, domain.decide_refusal(
            kiosk_id, centre, throttle, outcome, now, policy))
        raise refusal_for(outcome, result, catalogue)
    service = catalogue["services"][result["service"]]
    ticket = issue_ticket(uow, centre, result["service"], service["prefix"], "booked", kiosk_id,
                          now, booking=result)
    return ticket_view(ticket, catalogue)


opening_hours = domain.opening_hours


def closed_refusal(catalogue, centre, now):
    """The 409 ``centre_closed`` answer (saying today's hours) when ``centre`` is
    closed at ``now`` (Baku time), or ``None``."""
    try:
        domain.check_open(catalogue, centre, now)
    except domain.CentreClosed as closed:
        return refusal_of(closed)
    return None


def walk_in(uow, catalogue, kiosk_id, centre, service_code, now):
    """A ticket without a booking, while the centre is open (Baku time)."""
    last = read_model.last_ticket(uow.conn, centre, domain.ticket_day(now), service_code,
                                  "walk_in")
    ticket = _record_ticket(uow, _decided(domain.decide_walk_in, catalogue, centre, service_code,
                                          kiosk_id, str(uuid.uuid4()), last, now))
    return ticket_view(ticket, catalogue)


def queue(conn, centre, now):
    """Today's tickets of a centre in the order they will be called."""
    return [{"number": t.number, "series": t.series, "service": t.service,
             "booked_time": t.booked_time.strftime("%H:%M") if t.booked_time else None,
             "issued_at": t.issued_at.isoformat()}
            for t in call_order(read_model.tickets_of_day(conn, centre, domain.ticket_day(now)))]
