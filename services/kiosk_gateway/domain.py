"""The kiosk gateway's rules (Q-7, Q-8, D-5), pure: no database, no broker, no HTTP,
no clock of its own (``now`` is a parameter). A test reads "given these events, when
this command, then these events (or this refusal)".

Three deciders:

* a kiosk (stream ``kiosk-<id>``): :class:`Kiosk`, :func:`evolve`, :func:`fold`;
  ``decide_register`` / ``decide_rotate`` / ``decide_revoke``;
* its throttle against guessed codes: :class:`Throttle` and :func:`evolve_throttle`
  (wrong codes in a row, from ``ActivationRefused`` and the kiosk's booked
  ``TicketIssued``), :func:`check_not_blocked`, :func:`decide_refusal`;
* tickets: :func:`decide_ticket` numbers the next ticket of a centre's series from
  the last number taken, :func:`decide_walk_in`, and :func:`activation_outcome`
  reads booking's answer to an activation.

Refusals are plain exceptions (:class:`KioskRefusal` and its kinds); the service
layer (``handlers``) turns them into HTTP answers.
"""
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from shared.clock import BAKU, baku_now, baku_today
from shared.decider import folder

from .tickets import Ticket, ticket_number


@dataclass(frozen=True)
class Policy:
    """The activation rules a deployment configures (Q-7)."""
    repeat_window: timedelta = timedelta(minutes=10)
    free_failures: int = 5  # wrong codes in a row before a kiosk is slowed down
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)


# --- refusals -----------------------------------------------------------------------

class KioskRefusal(Exception):
    """A command the rules refuse; nothing is recorded."""


class UnknownCentre(KioskRefusal):
    """D-5: a kiosk is registered for a centre the catalogue does not know."""


class UnknownKiosk(KioskRefusal):
    """No kiosk has this id (its stream has no events)."""


class KioskIsRevoked(KioskRefusal):
    """The kiosk is revoked: it gets no new credential."""


class NotOffered(KioskRefusal):
    """The centre does not offer the service asked for at its kiosk."""


class CentreClosed(KioskRefusal):
    """``hours``: today's ``("HH:MM", "HH:MM")``, or ``None`` when closed all day."""

    def __init__(self, hours):
        super().__init__(hours)
        self.hours = hours


class SlowedDown(KioskRefusal):
    """Too many wrong codes: ``wait`` whole seconds before the kiosk may try again."""

    def __init__(self, wait):
        super().__init__(wait)
        self.wait = wait


# --- a kiosk and its credential (D-5) ---------------------------------------------

@dataclass(frozen=True)
class Kiosk:
    """A kiosk as its events leave it. ``status``: ``new`` (no such kiosk),
    ``active`` or ``revoked``; ``version``: of its stream."""
    kiosk_id: str | None = None
    centre: str | None = None
    status: str = "new"
    credential_hash: str | None = None
    version: int = 0


def kiosk_stream(kiosk_id):
    """The id of a kiosk's event stream: ``kiosk-<kiosk id>``."""
    return f"kiosk-{kiosk_id}"


def evolve(state, event_type, data):
    """``state`` after one event of the kiosk's stream."""
    state = replace(state, version=state.version + 1)
    if event_type == "KioskRegistered":
        return replace(state, kiosk_id=data["kiosk_id"], centre=data["centre"],
                       status="active", credential_hash=data.get("credential_hash"))
    if event_type == "KioskCredentialRotated":
        return replace(state, credential_hash=data.get("credential_hash"))
    if event_type == "KioskRevoked":
        return replace(state, status="revoked")
    return state


# The :class:`Kiosk` of ``(event type, data)`` pairs, oldest first.
fold = folder(Kiosk(), evolve)


def decide_register(kiosk_id, centre, known_centres, credential_hash):
    """D-5: a kiosk of a known centre, with the hash of its first secret."""
    if centre not in known_centres:
        raise UnknownCentre(centre)
    return [("KioskRegistered", {"kiosk_id": kiosk_id, "centre": centre,
                                 "credential_hash": credential_hash})]


def decide_rotate(state, credential_hash):
    """A new secret for an active kiosk; the old one stops working."""
    if state.status == "new":
        raise UnknownKiosk()
    if state.status == "revoked":
        raise KioskIsRevoked()
    return [("KioskCredentialRotated", {"kiosk_id": state.kiosk_id, "centre": state.centre,
                                        "credential_hash": credential_hash})]


def decide_revoke(state):
    """The kiosk is refused from now on; revoking it again changes nothing."""
    if state.status == "new":
        raise UnknownKiosk()
    if state.status == "revoked":
        return []
    return [("KioskRevoked", {"kiosk_id": state.kiosk_id, "centre": state.centre})]


# --- slowing down guessers (Q-7) ----------------------------------------------------

@dataclass(frozen=True)
class Throttle:
    """Wrong codes a kiosk typed in a row, and until when it is slowed down."""
    failures: int = 0
    blocked_until: datetime | None = None


def slowed_until(failures, at, policy):
    """When a kiosk with ``failures`` wrong codes in a row, the last ``at``, may try
    again: ``None`` below ``policy.free_failures``, then a delay doubling per wrong
    code up to ``policy.max_delay``."""
    if failures < policy.free_failures:
        return None
    return at + min(policy.base_delay * 2 ** (failures - policy.free_failures),
                    policy.max_delay)


def evolve_throttle(throttle, event_type, data):
    """The throttle of the kiosk after one of its ``ActivationRefused`` or
    ``TicketIssued`` events: a wrong code counts, a booked ticket clears it."""
    if event_type == "ActivationRefused" and data["reason"] == "invalid":
        until = data.get("blocked_until")
        return Throttle(throttle.failures + 1,
                        datetime.fromisoformat(until) if until else throttle.blocked_until)
    if event_type == "TicketIssued" and data["series"] == "booked":
        return Throttle()
    return throttle


def check_not_blocked(throttle, now):
    """Raises :class:`SlowedDown` while the kiosk is slowed down."""
    if throttle.blocked_until and throttle.blocked_until > now:
        raise SlowedDown(int((throttle.blocked_until - now).total_seconds()) + 1)


def decide_refusal(kiosk_id, centre, throttle, reason, now, policy):
    """An activation refused for ``reason`` (``invalid``, ``other_centre``,
    ``too_early``, ``lapsed``) is recorded; a wrong code (``invalid``) counts towards
    slowing the kiosk down, and says until when it does."""
    blocked_until = slowed_until(throttle.failures + 1, now, policy) \
        if reason == "invalid" else None
    return [("ActivationRefused", {
        "kiosk_id": kiosk_id, "centre": centre, "reason": reason, "at": now.isoformat(),
        "blocked_until": blocked_until.isoformat() if blocked_until else None})]


def activation_outcome(result, existing, kiosk_id, now, policy):
    """What booking's answer ``result`` to an activation means here (Q-7):
    ``"repeat"`` (the same kiosk asking again within the repeat window: the
    ``existing`` ticket again), ``"activated"`` (issue a ticket; also when booking
    said yes before but we issued none) or the reason of a refusal. A code used
    elsewhere or long ago gets the same answer as an unknown one: ``"invalid"``."""
    outcome = result["outcome"]
    if outcome != "already_activated":
        return outcome
    if result["kiosk_id"] != kiosk_id or (
            existing is not None and now - existing.issued_at > policy.repeat_window):
        return "invalid"
    return "repeat" if existing is not None else "activated"


# --- tickets (Q-7) ------------------------------------------------------------------

def ticket_day(now):
    """The Baku day whose numbers a ticket issued at ``now`` takes."""
    return baku_today(now)


def counter_series(service, series):
    """The key of a number series: ``"<service>:booked"`` or ``"<service>:walk_in"``."""
    return f"{service}:{series}"


def decide_ticket(ticket_id, last, centre, service, prefix, series, kiosk_id, now,
                  booking=None):
    """The next ticket of the centre's ``series`` for the Baku day of ``now``: number
    ``last + 1`` (``last``: the highest taken that day, 0 for none), so numbers are
    gap-free. ``booking``: booking's answer (its ``booking_id`` and ``time``)."""
    sequence = last + 1
    return [("TicketIssued", {
        "ticket_id": ticket_id, "centre": centre, "date": ticket_day(now).isoformat(),
        "number": ticket_number(prefix, series, sequence), "sequence": sequence,
        "series": series, "service": service,
        "booking_id": booking["booking_id"] if booking else None,
        "booked_time": booking["time"] if booking else None, "kiosk_id": kiosk_id,
        "issued_at": now.isoformat()})]


def ticket_of(data):
    """The :class:`~.tickets.Ticket` a ``TicketIssued`` event's data describes."""
    return Ticket(str(data["ticket_id"]), data["centre"], date.fromisoformat(data["date"]),
                  data["number"], data["sequence"], data["series"], data["service"],
                  str(data["booking_id"]) if data.get("booking_id") else None,
                  time.fromisoformat(data["booked_time"]) if data.get("booked_time") else None,
                  data["kiosk_id"], datetime.fromisoformat(data["issued_at"]).astimezone(BAKU))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_hours(catalogue, centre, now):
    """(opens, closes) as ``"HH:MM"`` of ``centre`` on the Baku day of ``now``, or
    ``None`` when it is closed that day (a weekend, a public holiday)."""
    day = baku_today(now)
    if day.isoformat() in catalogue.get("closed_days", ()):
        return None
    hours = catalogue["centres"][centre].get("hours", {}).get(WEEKDAYS[day.weekday()])
    return tuple(hours) if hours else None


def closed_by_staff(catalogue, centre, service, day):
    """Whether staff closed ``centre`` (as a whole, or ``service`` at it) on ``day``
    (issue 17 §6: booking's ``CentreClosed``, in the catalogue's ``closures``)."""
    return any(closure["centre"] == centre and closure["date"] == day.isoformat()
               and closure["service"] in (None, service)
               for closure in catalogue.get("closures", ()))


def check_open(catalogue, centre, now):
    """Raises :class:`CentreClosed` unless ``centre`` is open at ``now`` (Baku
    wall-clock time: a walk-in ticket is printed only then)."""
    hours = opening_hours(catalogue, centre, now)
    moment = baku_now(now).strftime("%H:%M")
    if not (hours and hours[0] <= moment < hours[1]):
        raise CentreClosed(hours)


def decide_walk_in(catalogue, centre, service, kiosk_id, ticket_id, last, now):
    """A ticket without a booking, of a service the centre offers, while it is open
    (Baku wall-clock time); its own number series. Raises :class:`NotOffered` or
    :class:`CentreClosed`."""
    if service not in catalogue["centres"][centre]["services"]:
        raise NotOffered(service)
    if closed_by_staff(catalogue, centre, service, ticket_day(now)):
        raise CentreClosed(None)  # issue 17 §6: "closed today"
    check_open(catalogue, centre, now)
    return decide_ticket(ticket_id, last, centre, service,
                         catalogue["services"][service]["prefix"], "walk_in", kiosk_id, now)


# --- counters: staff desks that call tickets (issue 17 §1, M-2) ---------------------

class UnknownCounter(KioskRefusal):
    """No counter has this id (its stream has no events)."""


class CounterIsRevoked(KioskRefusal):
    """The counter is revoked: it gets no new credential."""


class NotSignedIn(KioskRefusal):
    """Nobody is signed in at the counter: it calls no ticket."""


class TicketInProgress(KioskRefusal):
    """The counter has a called ticket: served, no-show or transfer it first."""


class NoCurrentTicket(KioskRefusal):
    """The counter has no called ticket to act on."""


class NobodyWaiting(KioskRefusal):
    """No ticket of the counter's services is waiting."""


class RecallsExhausted(KioskRefusal):
    """The ticket was recalled ``allowed`` times: record a no-show."""

    def __init__(self, allowed):
        super().__init__(allowed)
        self.allowed = allowed


class RecallFirst(KioskRefusal):
    """A no-show only after ``allowed`` recalls (the visitor gets their chances)."""

    def __init__(self, allowed):
        super().__init__(allowed)
        self.allowed = allowed


class SameService(KioskRefusal):
    """A ticket is transferred to another service than its own."""


class NoServices(KioskRefusal):
    """A counter signs in for at least one service (none given)."""


class NameTaken(KioskRefusal):
    """Another active counter of the centre has this name: the board could not tell
    the two apart."""


@dataclass(frozen=True)
class Counter:
    """A counter as its events leave it. ``status``: ``new``, ``active`` or
    ``revoked``; ``services``: the service codes staff signed in for (empty: signed
    out); ``version``: of its stream ``counter-<id>``."""
    counter_id: str | None = None
    centre: str | None = None
    name: str | None = None
    status: str = "new"
    credential_hash: str | None = None
    services: tuple = ()
    version: int = 0

    @property
    def signed_in(self):
        """Staff are signed in (for at least one service)."""
        return bool(self.services)


def counter_stream(counter_id):
    """The id of a counter's event stream: ``counter-<counter id>``."""
    return f"counter-{counter_id}"


def evolve_counter(state, event_type, data):
    """``state`` after one event of the counter's stream."""
    state = replace(state, version=state.version + 1)
    if event_type == "CounterRegistered":
        return replace(state, counter_id=data["counter_id"], centre=data["centre"],
                       name=data["name"], status="active",
                       credential_hash=data["credential_hash"])
    if event_type == "CounterCredentialRotated":
        return replace(state, credential_hash=data["credential_hash"])
    if event_type == "CounterRevoked":
        return replace(state, status="revoked", services=())
    if event_type == "CounterSignedIn":
        return replace(state, services=tuple(data["services"]))
    if event_type == "CounterSignedOut":
        return replace(state, services=())
    return state


# The :class:`Counter` of ``(event type, data)`` pairs, oldest first.
fold_counter = folder(Counter(), evolve_counter)


def _counter_data(state, **more):
    return {"counter_id": state.counter_id, "centre": state.centre, "name": state.name, **more}


def counter_name_key(name):
    """What two counter names are compared by: as a visitor reads them on the board
    (case and spacing aside)."""
    return " ".join(name.split()).casefold()


def decide_register_counter(counter_id, centre, name, known_centres, credential_hash,
                            names_in_use=()):
    """A counter of a known centre named ``name`` (what the board shows), with the
    hash of its first secret (like a kiosk's, D-5). ``names_in_use``: the names of the
    centre's active counters (:class:`NameTaken` when ``name`` reads as one of them)."""
    if centre not in known_centres:
        raise UnknownCentre(centre)
    if counter_name_key(name) in {counter_name_key(used) for used in names_in_use}:
        raise NameTaken(name)
    return [("CounterRegistered", {"counter_id": counter_id, "centre": centre, "name": name,
                                   "credential_hash": credential_hash})]


def decide_rotate_counter(state, credential_hash):
    """A new secret for an active counter; the old one stops working."""
    if state.status == "new":
        raise UnknownCounter()
    if state.status == "revoked":
        raise CounterIsRevoked()
    return [("CounterCredentialRotated", _counter_data(state, credential_hash=credential_hash))]


def decide_revoke_counter(state):
    """The counter is refused from now on (again: nothing changes); its called ticket,
    if any, is released by :func:`decide_release`."""
    if state.status == "new":
        raise UnknownCounter()
    if state.status == "revoked":
        return []
    return [("CounterRevoked", _counter_data(state))]


def decide_sign_in(state, services, offered, now):
    """Staff sign in at the counter for ``services`` (codes the centre offers, ≥ 1,
    duplicates dropped, order kept); signing in again changes the services. A revoked
    counter is refused (its token was checked before a revocation that came first)."""
    if state.status == "revoked":
        raise CounterIsRevoked()
    wanted = tuple(dict.fromkeys(services))
    if not wanted:
        raise NoServices()
    for service in wanted:
        if service not in offered:
            raise NotOffered(service)
    return [("CounterSignedIn", _counter_data(state, services=list(wanted),
                                              at=now.isoformat()))]


def decide_sign_out(state, current, now):
    """Staff sign out; refused while the counter has a called ticket (``current``)."""
    if current is not None:
        raise TicketInProgress()
    if not state.signed_in:
        return []
    return [("CounterSignedOut", _counter_data(state, at=now.isoformat()))]


@dataclass(frozen=True)
class TicketState:
    """A ticket as its stream leaves it (``ticket-<id>``). ``status``: ``waiting``,
    ``called``, ``served`` or ``no_show``; ``service``: the queue it is in (changed by
    a transfer); ``counter_id``/``called_at``/``recalls``: of its current call."""
    ticket_id: str | None = None
    centre: str | None = None
    day: str | None = None
    number: str | None = None
    series: str | None = None
    service: str | None = None
    issued_at: str | None = None
    status: str = "new"
    counter_id: str | None = None
    called_at: str | None = None
    recalls: int = 0
    calls: int = 0
    version: int = 0


def ticket_stream(ticket_id):
    """The id of a ticket's event stream: ``ticket-<ticket id>``."""
    return f"ticket-{ticket_id}"


def evolve_ticket(state, event_type, data):
    """``state`` after one event of the ticket's stream."""
    state = replace(state, version=state.version + 1)
    if event_type == "TicketIssued":
        return replace(state, ticket_id=str(data["ticket_id"]), centre=data["centre"],
                       day=data["date"], number=data["number"], series=data["series"],
                       service=data["service"], issued_at=data["issued_at"], status="waiting")
    if event_type == "TicketCalled":
        return replace(state, status="called", counter_id=data["counter_id"],
                       called_at=data["called_at"], recalls=0, calls=state.calls + 1,
                       service=data["service"])
    if event_type == "TicketRecalled":
        return replace(state, recalls=data["recalls"])
    if event_type == "TicketTransferred":
        return replace(state, status="waiting", service=data["to_service"], counter_id=None,
                       called_at=None, recalls=0)
    if event_type == "TicketServed":
        return replace(state, status="served")
    if event_type == "TicketNoShow":
        return replace(state, status="no_show")
    return state


# The :class:`TicketState` of ``(event type, data)`` pairs, oldest first.
fold_ticket = folder(TicketState(), evolve_ticket)


def _ticket_data(ticket, counter):
    return {"ticket_id": ticket.ticket_id, "centre": ticket.centre, "date": ticket.day,
            "number": ticket.number, "counter_id": counter.counter_id}


def decide_call(counter, ticket, now):
    """The counter calls ``ticket`` (the first waiting one of its services in call
    order, chosen by the caller). Returns ``[]`` when the ticket is no longer waiting
    for one of its services (another counter called it first): the caller tries the
    next one. Raises :class:`NotSignedIn`."""
    if not counter.signed_in:
        raise NotSignedIn()
    if ticket.status != "waiting" or ticket.service not in counter.services:
        return []
    return [("TicketCalled", {**_ticket_data(ticket, counter), "service": ticket.service,
                              "series": ticket.series, "counter_name": counter.name,
                              "issued_at": ticket.issued_at, "called_at": now.isoformat(),
                              "first_call": ticket.calls == 0})]


def _current(counter, ticket):
    if ticket is None or ticket.status != "called" or ticket.counter_id != counter.counter_id:
        raise NoCurrentTicket()


def decide_recall(counter, ticket, allowed, now):
    """The counter calls its ticket again, at most ``allowed`` times
    (:class:`RecallsExhausted` after that: record a no-show)."""
    _current(counter, ticket)
    if ticket.recalls >= allowed:
        raise RecallsExhausted(allowed)
    return [("TicketRecalled", {**_ticket_data(ticket, counter), "service": ticket.service,
                                "counter_name": counter.name, "recalls": ticket.recalls + 1,
                                "at": now.isoformat()})]


def decide_no_show(counter, ticket, allowed, now):
    """Nobody came: allowed once the ticket was recalled ``allowed`` times
    (:class:`RecallFirst` before)."""
    _current(counter, ticket)
    if ticket.recalls < allowed:
        raise RecallFirst(allowed)
    return [("TicketNoShow", {**_ticket_data(ticket, counter), "service": ticket.service,
                              "recalls": ticket.recalls, "at": now.isoformat()})]


def decide_transfer(counter, ticket, service, offered, now):
    """The visitor needs another service: the ticket waits in ``service``'s queue,
    keeping its place. Raises :class:`NotOffered`, :class:`SameService`."""
    _current(counter, ticket)
    if service not in offered:
        raise NotOffered(service)
    if service == ticket.service:
        raise SameService()
    return [("TicketTransferred", {**_ticket_data(ticket, counter),
                                   "from_service": ticket.service, "to_service": service,
                                   "at": now.isoformat()})]


def decide_served(counter, ticket, now):
    """The visitor was served at the counter."""
    _current(counter, ticket)
    return [("TicketServed", {**_ticket_data(ticket, counter), "service": ticket.service,
                              "called_at": ticket.called_at, "served_at": now.isoformat()})]


def decide_release(counter, ticket, now):
    """A revoked counter's called ticket waits again in its own queue, keeping its place
    (a transfer to the same service, by the counter that let it go)."""
    if ticket is None or ticket.status != "called":
        return []
    return [("TicketTransferred", {**_ticket_data(ticket, counter),
                                   "from_service": ticket.service, "to_service": ticket.service,
                                   "at": now.isoformat()})]
