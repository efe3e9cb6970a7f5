"""The kiosk gateway's use cases: kiosks and their credentials, activation with the
booking service (over RPC), tickets, walk-ins, heartbeats, slowing down guessers.

Each loads the state it decides on (a kiosk's stream folded, or the fold kept in a
read-model row, locked), lets :mod:`.domain` decide, and appends the events; the unit
of work applies them to the read models (:mod:`.read_model`, the only writer of the
tables). The deciders' refusals (kinds of ``shared.vocabulary.errors`` refusals, with their
words, in :mod:`.domain`) pass through as they are: ``shared.edge.http`` gives each kind
its status.

An activation asks booking over RPC while the kiosk's activations take their turn
on a lock that gives the transaction no id (:func:`~.read_model.activation_turn`):
a transaction with an id open for the RPC's seconds would hold back the commit
horizon of every relay and reader of the cluster (docs/ARCHITECTURE.md). Booking's
reply is read in one place, :func:`booking_answer`, and asked once per request
(:class:`AskedOnce`), even when the command runs again after a lost race."""
import base64
import secrets
import uuid
from datetime import datetime

from shared.edge.auth import bearer_token, token_hash
from shared.vocabulary.clock import BAKU
from shared.vocabulary.errors import Text, Unauthorized
from shared.runtime.eventstore import ANY_VERSION, NO_STREAM

from . import domain, read_model
from .tickets import call_order, escpos, print_layouts


# --- kiosks -------------------------------------------------------------------------

def _load(uow, kiosk_id):
    return uow.load(domain.kiosk_stream(kiosk_id), domain.fold)


def register_kiosk(uow, centre, known_centres):
    """D-5: a new kiosk of ``centre``; its token is shown once, only its hash kept."""
    kiosk_id = f"{centre}-k{secrets.token_hex(3)}"
    secret = secrets.token_urlsafe(32)
    uow.decide(domain.kiosk_stream(kiosk_id), NO_STREAM, lambda: domain.decide_register(
        kiosk_id, centre, known_centres, token_hash(secret)))
    return {"kiosk_id": kiosk_id, "centre": centre, "token": f"{kiosk_id}.{secret}"}


def rotate_credential(uow, kiosk_id):
    """D-5: a new secret for kiosk ``kiosk_id``, the old one stops working. Returns
    ``{kiosk_id, centre, token}``, the token shown once; 404 ``unknown_kiosk``, 409
    ``revoked``."""
    state = _load(uow, kiosk_id)
    secret = secrets.token_urlsafe(32)
    uow.decide(domain.kiosk_stream(kiosk_id), state.version,
               lambda: domain.decide_rotate(state, token_hash(secret)))
    return {"kiosk_id": kiosk_id, "centre": state.centre, "token": f"{kiosk_id}.{secret}"}


def revoke_kiosk(uow, kiosk_id):
    """D-5: the kiosk is refused from now on (revoking it again changes nothing).
    Returns ``{kiosk_id, status}``; 404 ``unknown_kiosk``."""
    state = _load(uow, kiosk_id)
    uow.decide(domain.kiosk_stream(kiosk_id), state.version,
               lambda: domain.decide_revoke(state))
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
    issued, = events
    uow.record(domain.ticket_stream(issued.ticket_id), NO_STREAM, events)
    return domain.ticket_of(issued)


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


class AskedOnce:
    """``ask()`` (an RPC) called at most once: its first answer is kept, so a command
    that ``ServiceDatabase.run`` runs again after a lost race does not ask again
    (booking would activate nothing twice, but would answer another thing).
    ``asked``: whether the answer is in."""

    def __init__(self, ask):
        self._ask = ask
        self.asked = False
        self._answer = None

    def __call__(self):
        """The answer: asked now the first time, kept after."""
        if not self.asked:
            self._answer = self._ask()
            self.asked = True
        return self._answer


def booking_answer(reply, catalogue):
    """Booking's RPC reply to ``activate`` — ``{"outcome": "activated" |
    "already_activated" | "too_early" | "lapsed" | "other_centre" | "invalid", …}``,
    a shape kept for rolling deploys — as the :class:`~.domain.BookingAnswer` the
    decider takes: the one place its outcome is read. ``catalogue``: names the other
    centre. An outcome it does not know names no booking here: an invalid code."""
    outcome = reply["outcome"]
    slot = {key: reply[key] for key in ("booking_id", "centre", "service", "date", "time")} \
        if outcome in ("activated", "already_activated") else None
    if outcome == "activated":
        return domain.BookingAnswer(booking=slot)
    if outcome == "already_activated":
        # by no kiosk we know of: "" (a kiosk id no kiosk has)
        at = reply.get("activated_at")
        return domain.BookingAnswer(booking=slot, activated_by=reply.get("kiosk_id") or "",
                                    activated_at=datetime.fromisoformat(at) if at else None)
    if outcome == "too_early":
        return domain.BookingAnswer(refused=domain.TooEarly,
                                    details=(datetime.fromisoformat(reply["from"]),))
    if outcome == "other_centre":
        names = catalogue["centres"][reply["centre"]]
        return domain.BookingAnswer(refused=domain.OtherCentre,
                                    details=({"az": names["az"], "en": names["en"]},))
    if outcome == "lapsed":
        return domain.BookingAnswer(refused=domain.Lapsed)
    return domain.BookingAnswer(refused=domain.InvalidCode)


def activate(uow, ask_booking, catalogue, kiosk_id, centre, now, policy):
    """Q-7 with D-5: the kiosk asks us, we ask booking (``ask_booking()``: its RPC reply
    to this activation, an :class:`AskedOnce`). Returns the ticket view; a refused
    activation raises its refusal kind (:mod:`.domain`), whose ``ActivationRefused``
    (a wrong code counted) is committed all the same.

    The kiosk's activations take their turns (a burst of wrong codes is slowed down
    like the same codes one after another) on a lock that gives the transaction no id
    while booking is asked: its first write comes after booking answered. The caller
    holds the kiosk's turn in its process (``service.KioskTurns``), so that a kiosk's
    presses wait for it without a database connection each."""
    throttle = read_model.activation_turn(uow.conn, kiosk_id)
    if not ask_booking.asked:  # a slowed-down kiosk does not get to ask booking
        domain.check_not_blocked(throttle, now)
    answer = booking_answer(ask_booking(), catalogue)
    existing = read_model.ticket_of_booking(uow.conn, answer.booking["booking_id"]) \
        if answer.activated_by is not None else None
    uow.decide(domain.refusals_stream(kiosk_id), ANY_VERSION, lambda: domain.decide_activation(
        answer, existing, throttle, kiosk_id, centre, now, policy))
    if existing is not None:  # the same kiosk again, its answer lost: the same ticket
        return ticket_view(existing, catalogue)
    service = answer.booking["service"]
    ticket = issue_ticket(uow, centre, service, catalogue["services"][service]["prefix"],
                          "booked", kiosk_id, now, booking=answer.booking)
    return ticket_view(ticket, catalogue)


def walk_in(uow, catalogue, kiosk_id, centre, service_code, now):
    """A ticket without a booking, while the centre is open (Baku time)."""
    last = read_model.last_ticket(uow.conn, centre, domain.ticket_day(now), service_code,
                                  "walk_in")
    ticket = _record_ticket(uow, domain.decide_walk_in(catalogue, centre, service_code,
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
    names_in_use = read_model.active_counter_names(uow.conn, centre)
    uow.decide(domain.counter_stream(counter_id), NO_STREAM, lambda: (
        domain.decide_register_counter(counter_id, centre, name, known_centres,
                                       token_hash(secret), names_in_use)))
    return {"counter_id": counter_id, "centre": centre, "name": name,
            "token": f"{counter_id}.{secret}"}


def rotate_counter(uow, counter_id):
    """A new secret for counter ``counter_id``; 404 ``unknown_counter``, 409 ``revoked``."""
    state = _counter(uow, counter_id)
    secret = secrets.token_urlsafe(32)
    uow.decide(domain.counter_stream(counter_id), state.version,
               lambda: domain.decide_rotate_counter(state, token_hash(secret)))
    return {"counter_id": counter_id, "centre": state.centre, "name": state.name,
            "token": f"{counter_id}.{secret}"}


def revoke_counter(uow, counter_id, now):
    """The counter is refused from now on; the ticket it had called waits again in its
    queue, keeping its place. ``{counter_id, status}``; 404 ``unknown_counter``."""
    state = _counter(uow, counter_id)
    events = domain.decide_revoke_counter(state)
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
    uow.decide(domain.counter_stream(counter_id), state.version,
               lambda: domain.decide_sign_in(state, services, offered, now))


def sign_out(uow, counter_id, now):
    """Staff sign out (409 ``ticket_in_progress`` while a ticket is called there)."""
    state = _counter(uow, counter_id)
    current = read_model.current_ticket(uow.conn, counter_id)
    uow.decide(domain.counter_stream(counter_id), state.version,
               lambda: domain.decide_sign_out(state, current, now))


def call_next(uow, counter_id, now):
    """The counter calls the next ticket of its services today (Baku): booked visitors
    at their time ahead of walk-ins, then by arrival (``tickets.call_order``). Two
    counters never call one ticket: each candidate's stream is locked and folded
    before it is called, so a counter that loses the race sees it called and takes
    the next. Returns the ``TicketCalled`` event; 409 ``not_signed_in``/
    ``ticket_in_progress``, 404 ``nobody_waiting``."""
    state = _counter(uow, counter_id)
    if not state.signed_in:
        raise domain.NotSignedIn()
    if read_model.current_ticket(uow.conn, counter_id):
        raise domain.TicketInProgress()
    waiting = read_model.waiting_tickets(uow.conn, state.centre, domain.ticket_day(now),
                                         state.services)
    for candidate in call_order(waiting):
        ticket = _load_ticket(uow, candidate.ticket_id)
        events = uow.decide(domain.ticket_stream(ticket.ticket_id), ticket.version,
                            lambda: domain.decide_call(state, ticket, now))
        if events:
            return events[0]
    raise domain.NobodyWaiting()


def act_on_current(uow, counter_id, decide, *args):
    """Recall, no-show, transfer or served: ``decide(counter, ticket, *args)`` on the
    counter's called ticket (409 ``no_current_ticket`` without one). Returns the
    (typed) event."""
    state = _counter(uow, counter_id)
    ticket = _load_ticket(uow, read_model.current_ticket(uow.conn, counter_id))
    if ticket is None:
        raise domain.NoCurrentTicket()
    events = uow.decide(domain.ticket_stream(ticket.ticket_id), ticket.version,
                        lambda: decide(state, ticket, *args))
    return events[0]


def board(conn, catalogue, centre, now):
    """The display board of ``centre`` (``schemas.Board``): the last calls today (Baku),
    newest first, by ticket number and counter name only; 404 ``unknown_centre``."""
    if centre not in catalogue["centres"]:
        raise domain.UnknownCentre(centre)
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
