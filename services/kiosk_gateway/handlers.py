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
from datetime import datetime

from shared.auth import bearer_token, token_hash
from shared import dates
from shared.clock import BAKU
from shared.errors import (Conflict, Gone, NotFound, Rejected, Text, TooManyRequests,
                           Unauthorized)

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
    if type(refused) in COUNTER_REFUSALS:
        return COUNTER_REFUSALS[type(refused)](refused)
    if isinstance(refused, domain.SlowedDown):
        wait = refused.wait
        return TooManyRequests(Text(
            "slowed_down", f"Çoxlu səhv kod daxil edildi; {wait} saniyə sonra yenidən cəhd edin.",
            f"Too many wrong codes; try again in {wait} seconds."), retry_after=wait)
    raise TypeError(f"no HTTP answer for {refused!r}")


COUNTER_REFUSALS = {
    domain.UnknownCounter: lambda r: NotFound(Text("unknown_counter", "Belə masa yoxdur.",
                                                   "No such counter.")),
    domain.CounterIsRevoked: lambda r: Conflict(Text("revoked", "Masa ləğv olunub.",
                                                     "The counter is revoked.")),
    domain.NotSignedIn: lambda r: Conflict(Text(
        "not_signed_in", "Masada heç kim daxil olmayıb: əvvəlcə xidmətləri seçib daxil olun.",
        "Nobody is signed in at this counter: sign in for your services first.")),
    domain.TicketInProgress: lambda r: Conflict(Text(
        "ticket_in_progress", "Çağırılmış bilet hələ bağlanmayıb: xidmət göstərildi, gəlmədi"
        " və ya yönləndir seçin.", "A called ticket is still open: mark it served, no-show"
        " or transfer it first.")),
    domain.NoCurrentTicket: lambda r: Conflict(Text(
        "no_current_ticket", "Masada çağırılmış bilet yoxdur.",
        "This counter has no called ticket.")),
    domain.NobodyWaiting: lambda r: NotFound(Text(
        "nobody_waiting", "Seçilmiş xidmətlər üzrə növbədə gözləyən yoxdur.",
        "Nobody is waiting for this counter's services.")),
    domain.RecallsExhausted: lambda r: Conflict(Text(
        "recalls_exhausted", f"Bilet artıq {r.allowed} dəfə təkrar çağırılıb: \"gəlmədi\""
        " qeyd edin.", f"The ticket was recalled {r.allowed} times already: record a no-show.")),
    domain.RecallFirst: lambda r: Conflict(Text(
        "recall_first", f"\"Gəlmədi\" yalnız {r.allowed} təkrar çağırışdan sonra qeyd olunur.",
        f"A no-show is recorded only after {r.allowed} recalls.")),
    domain.SameService: lambda r: Conflict(Text(
        "same_service", "Bilet artıq bu xidmətin növbəsindədir.",
        "The ticket is in this service's queue already.")),
    domain.NameTaken: lambda r: Conflict(Text(
        "name_taken", "Bu mərkəzdə bu adda masa artıq var: lövhədə onları ayırmaq olmaz.",
        "A counter of this centre already has this name: the board could not tell them"
        " apart.")),
    domain.NoServices: lambda r: Rejected(Text(
        "no_services", "Ən azı bir xidmət seçin.", "Choose at least one service.")),
}


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


def _device(conn, request, credential, refusal):
    """``(device id, centre)`` of the active device presenting ``Authorization: Bearer
    <id>.<secret>`` (``credential(conn, id)`` gives its ``(centre, hash, status)``),
    or 401 ``refusal``. Kiosks and counters alike (D-5)."""
    token = bearer_token(request) or ""
    device_id, _, secret = token.partition(".")
    row = credential(conn, device_id) if secret else None
    if row is None or row[2] != "active" or not secrets.compare_digest(row[1], token_hash(secret)):
        raise Unauthorized(refusal, headers={"WWW-Authenticate": "Bearer"})
    return device_id, row[0]


def authenticate(conn, request):
    """The kiosk presenting ``Authorization: Bearer <kiosk id>.<secret>``, or 401."""
    return _device(conn, request, read_model.credential, NOT_A_KIOSK)


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
    uow.record(domain.ticket_stream(data["ticket_id"]), 0, events)
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
        opens = datetime.fromisoformat(result["from"]).astimezone(BAKU)
        day = dates.day_both(opens.date())
        return Conflict(Text("too_early", f"Hələ tezdir: növbəni {day['az']}, saat"
                             f" {opens:%H:%M}-dan aktivləşdirmək olar.", "Too early: the"
                             f" booking can be activated from {opens:%H:%M} on {day['en']}."),
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
    """Today's tickets of a centre still waiting, in the order they will be called."""
    return [{"number": t.number, "series": t.series, "service": t.service,
             "booked_time": t.booked_time.strftime("%H:%M") if t.booked_time else None,
             "issued_at": t.issued_at.isoformat()}
            for t in call_order(read_model.tickets_of_day(conn, centre, domain.ticket_day(now)))]


# --- counters: staff desks calling tickets (issue 17 §1) -----------------------------

NOT_A_COUNTER = Text("counter_unauthorized", "Masa tanınmadı və ya ləğv olunub.",
                     "Unknown or revoked counter.")


def authenticate_counter(conn, request):
    """The counter presenting ``Authorization: Bearer <counter id>.<secret>``, or 401
    ``counter_unauthorized``: ``(counter id, centre)``."""
    return _device(conn, request, read_model.counter_credential, NOT_A_COUNTER)


def _counter(uow, counter_id):
    return uow.load(domain.counter_stream(counter_id), domain.fold_counter)


def _load_ticket(uow, ticket_id):
    return uow.load(domain.ticket_stream(ticket_id), domain.fold_ticket) if ticket_id else None


def register_counter(uow, centre, name, known_centres):
    """A new counter of ``centre`` called ``name`` on the board; its token is shown
    once, only its hash kept (like a kiosk's, D-5). ``{counter_id, centre, name, token}``."""
    counter_id = f"{centre}-c{secrets.token_hex(3)}"
    secret = secrets.token_urlsafe(32)
    # The centre's names are read under a lock of their own: two registrations of one
    # name at once take turns, and the second sees the first's counter.
    uow.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"counter-names-{centre}",))
    uow.record(domain.counter_stream(counter_id), 0, _decided(
        domain.decide_register_counter, counter_id, centre, name, known_centres,
        token_hash(secret), read_model.active_counter_names(uow.conn, centre)))
    return {"counter_id": counter_id, "centre": centre, "name": name,
            "token": f"{counter_id}.{secret}"}


def rotate_counter(uow, counter_id):
    """A new secret for counter ``counter_id``; 404 ``unknown_counter``, 409 ``revoked``."""
    state = _counter(uow, counter_id)
    secret = secrets.token_urlsafe(32)
    uow.record(domain.counter_stream(counter_id), state.version,
               _decided(domain.decide_rotate_counter, state, token_hash(secret)))
    return {"counter_id": counter_id, "centre": state.centre, "name": state.name,
            "token": f"{counter_id}.{secret}"}


def revoke_counter(uow, counter_id, now):
    """The counter is refused from now on; the ticket it had called waits again in its
    queue, keeping its place. ``{counter_id, status}``; 404 ``unknown_counter``."""
    state = _counter(uow, counter_id)
    events = _decided(domain.decide_revoke_counter, state)
    if events:
        ticket = _load_ticket(uow, read_model.current_ticket(uow.conn, counter_id))
        if ticket is not None:
            uow.record(domain.ticket_stream(ticket.ticket_id), ticket.version,
                       domain.decide_release(state, ticket, now))
        uow.record(domain.counter_stream(counter_id), state.version, events)
    return {"counter_id": counter_id, "status": "revoked"}


def counter_view(conn, catalogue, counter_id, now, recalls_allowed):
    """The counter page's answer (``schemas.CounterView``): the counter, its services,
    its called ticket (``current``, null for none) and who waits today per service."""
    row = read_model.counter(conn, counter_id)
    centre = catalogue["centres"][row["centre"]]
    current = read_model.called_ticket(conn, row["current_ticket"]) \
        if row["current_ticket"] else None
    if current:
        service = catalogue["services"][current["service"]]
        current = {**current, "service": {"code": current["service"], "az": service["az"],
                                          "en": service["en"]},
                   "booked_time": current["booked_time"].strftime("%H:%M")
                   if current["booked_time"] else None,
                   "issued_at": current["issued_at"].astimezone(BAKU).isoformat(),
                   "called_at": current["called_at"].astimezone(BAKU).isoformat()}
    waiting = read_model.waiting_counts(conn, row["centre"], domain.ticket_day(now))
    return {"counter_id": counter_id, "name": row["name"],
            "centre": {"code": row["centre"], "az": centre["az"], "en": centre["en"]},
            "signed_in": bool(row["services"]), "services": list(row["services"]),
            "current": current, "recalls_allowed": recalls_allowed,
            "waiting": {code: waiting.get(code, 0) for code in centre["services"]}}


def sign_in(uow, catalogue, counter_id, services, now):
    """Staff sign in at the counter for ``services`` (the centre's, ≥ 1)."""
    state = _counter(uow, counter_id)
    offered = catalogue["centres"][state.centre]["services"]
    uow.record(domain.counter_stream(counter_id), state.version,
               _decided(domain.decide_sign_in, state, services, offered, now))


def sign_out(uow, counter_id, now):
    """Staff sign out (409 ``ticket_in_progress`` while a ticket is called there)."""
    state = _counter(uow, counter_id)
    current = read_model.current_ticket(uow.conn, counter_id)
    uow.record(domain.counter_stream(counter_id), state.version,
               _decided(domain.decide_sign_out, state, current, now))


def call_next(uow, counter_id, now):
    """The counter calls the next ticket of its services today (Baku): booked visitors
    at their time ahead of walk-ins, then by arrival (``tickets.call_order``). Two
    counters never call one ticket: each candidate's stream is locked and folded
    before it is called, so a counter that loses the race sees it called and takes
    the next. Returns the ``TicketCalled`` data; 409 ``not_signed_in``/
    ``ticket_in_progress``, 404 ``nobody_waiting``."""
    state = _counter(uow, counter_id)
    if not state.signed_in:
        raise refusal_of(domain.NotSignedIn())
    if read_model.current_ticket(uow.conn, counter_id):
        raise refusal_of(domain.TicketInProgress())
    waiting = read_model.waiting_tickets(uow.conn, state.centre, domain.ticket_day(now),
                                         state.services)
    for candidate in call_order(waiting):
        ticket = _load_ticket(uow, candidate.ticket_id)
        events = _decided(domain.decide_call, state, ticket, now)
        if events:
            uow.record(domain.ticket_stream(ticket.ticket_id), ticket.version, events)
            return events[0][1]
    raise refusal_of(domain.NobodyWaiting())


def act_on_current(uow, counter_id, decide, *args):
    """Recall, no-show, transfer or served: ``decide(counter, ticket, *args)`` on the
    counter's called ticket (409 ``no_current_ticket`` without one). Returns the event's
    data."""
    state = _counter(uow, counter_id)
    ticket = _load_ticket(uow, read_model.current_ticket(uow.conn, counter_id))
    events = _decided(decide, state, ticket, *args)
    uow.record(domain.ticket_stream(ticket.ticket_id), ticket.version, events)
    return events[0][1]


def board(conn, catalogue, centre, now):
    """The display board of ``centre`` (``schemas.Board``): the last calls today (Baku),
    newest first, by ticket number and counter name only; 404 ``unknown_centre``."""
    if centre not in catalogue["centres"]:
        raise NotFound(UNKNOWN_CENTRE)
    day = domain.ticket_day(now)
    names = catalogue["centres"][centre]
    called = []
    for number, counter_name, service, at, recalls, status in read_model.board(conn, centre, day):
        service_names = catalogue["services"][service]
        called.append({"number": number, "counter": counter_name, "status": status,
                       "service": {"code": service, "az": service_names["az"],
                                   "en": service_names["en"]},
                       "called_at": at.astimezone(BAKU).isoformat(), "recalls": recalls})
    return {"centre": {"code": centre, "az": names["az"], "en": names["en"]}, "called": called,
            "waiting": sum(read_model.waiting_counts(conn, centre, day).values()),
            "at": now.astimezone(BAKU).isoformat()}
