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
