"""The kiosk gateway's rules (Q-7, Q-8, D-5), pure: no database, no broker, no HTTP,
no clock of its own (``now`` is a parameter). A test reads "given these events, when
this command, then these events (or this refusal)".

Three deciders:

* a kiosk (stream ``kiosk-<id>``): :class:`Kiosk`, :func:`evolve`, :func:`fold`;
  ``decide_register`` / ``decide_rotate`` / ``decide_revoke``;
* its throttle against guessed codes: :class:`Throttle` and :func:`evolve_throttle`
  (wrong codes in a row, from ``ActivationRefused`` and the kiosk's booked
  ``TicketIssued``), :func:`check_not_blocked`, :func:`decide_refusal`;
* activations and tickets: :func:`decide_activation` decides on booking's answer
  (:class:`BookingAnswer`), :func:`decide_ticket` numbers the next ticket of a
  centre's series from the last number taken, :func:`decide_walk_in`.

A decider returns events or raises a refusal kind: a ``shared.vocabulary.errors`` refusal
(its status given by ``shared.edge.http``) with its words in both languages, defined
here; a refused activation carries the ``ActivationRefused`` it keeps
(``UnitOfWork.decide`` records it before the refusal is answered).
"""
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from shared.vocabulary.clock import BAKU, baku_now, baku_today
from shared.vocabulary.dates import day_both
from shared.vocabulary.decider import folder
from shared.vocabulary.errors import Conflict, Gone, NotFound, Rejected, Text, TooManyRequests

from .events import (
    CATALOG, ActivationRefused, CounterCredentialRotated, CounterRegistered, CounterRevoked,
    CounterSignedIn, CounterSignedOut, KioskCredentialRotated, KioskRegistered, KioskRevoked,
    TicketCalled, TicketIssued, TicketNoShow, TicketRecalled, TicketServed, TicketTransferred)
from .tickets import Ticket, ticket_number


@dataclass(frozen=True)
class Policy:
    """The activation rules (Q-7): a deployment configures the first three
    (``settings.KioskGatewaySettings.policy``)."""
    repeat_window: timedelta
    free_failures: int  # wrong codes in a row before a kiosk is slowed down
    base_delay: timedelta
    max_delay: timedelta = timedelta(minutes=5)


# The rules a refusal stored before refusals carried ``blocked_until`` was slowed down
# by: fixed here, not configured, so that a rebuild gives the same rows whatever the
# configuration is now.
EARLY_POLICY = Policy(repeat_window=timedelta(minutes=10), free_failures=5,
                      base_delay=timedelta(seconds=2))


# --- refusals: each kind of "no", with its words in both languages -----------------
# A kind is a ``shared.vocabulary.errors`` refusal (``shared.edge.http`` gives it its status); the
# activation's refusals that are kept carry their ``ActivationRefused`` event.

class UnknownCentre(NotFound):
    """D-5: a kiosk or counter is registered for a centre the catalogue does not know."""

    def __init__(self, centre=None):
        super().__init__(Text("unknown_centre", "Belə xidmət mərkəzi yoxdur.",
                              "No such service centre."))
        self.centre = centre


class UnknownKiosk(NotFound):
    """No kiosk has this id (its stream has no events)."""

    def __init__(self):
        super().__init__(Text("unknown_kiosk", "Belə kiosk yoxdur.", "No such kiosk."))


class KioskIsRevoked(Conflict):
    """The kiosk is revoked: it gets no new credential."""

    def __init__(self):
        super().__init__(Text("revoked", "Kiosk ləğv olunub.", "The kiosk is revoked."))


class NotOffered(NotFound):
    """The centre does not offer the service asked for at its kiosk or counter."""

    def __init__(self, service=None):
        super().__init__(Text("not_offered", "Bu xidmət bu mərkəzdə göstərilmir.",
                              "This service is not offered at this centre."))
        self.service = service


class CentreClosed(Conflict):
    """No walk-in now: ``hours``, the ``("HH:MM", "HH:MM")`` of ``day`` (the Baku day),
    or ``None`` when the centre is closed all that day. The words name the day."""

    def __init__(self, hours, day):
        named = day_both(day)
        if hours:
            text = Text("centre_closed", f"Mərkəz indi bağlıdır; bu gün ({named['az']})"
                        f" {hours[0]}–{hours[1]} işləyir.", "The centre is closed now; today"
                        f" ({named['en']}) it is open {hours[0]}–{hours[1]}.")
        else:
            text = Text("centre_closed", f"Mərkəz bu gün ({named['az']}) işləmir.",
                        f"The centre is closed today ({named['en']}).")
        super().__init__(text)
        self.hours, self.day = hours, day


class SlowedDown(TooManyRequests):
    """Too many wrong codes: ``wait`` whole seconds before the kiosk may try again (Q-7)."""

    def __init__(self, wait):
        super().__init__(Text(
            "slowed_down", f"Çoxlu səhv kod daxil edildi; {wait} saniyə sonra yenidən cəhd edin.",
            f"Too many wrong codes; try again in {wait} seconds."), retry_after=wait)
        self.wait = wait


# An activation refused is kept: its ``ActivationRefused`` event, with the
# ``reason`` of its kind, is recorded before the kiosk is answered.

class ActivationInProgress(Conflict):
    """The kiosk's previous activations are still waiting for booking's answers (409
    ``busy``): one kiosk pressed again and again while booking is slow waits its turn
    for a while, then is told to try again, and holds one of the gateway's
    connections, not all of them (D-5). Nothing is recorded: the press is not a wrong
    code."""

    def __init__(self):
        super().__init__(Text("busy", "Bu köşk əvvəlki kodun cavabını gözləyir; bir az sonra"
                              " yenidən cəhd edin.", "This kiosk is still waiting for the"
                              " answer to its previous code; please try again shortly."),
                         error="busy")


class InvalidCode(NotFound):
    """The code names no booking this kiosk may activate: unknown, used, cancelled,
    or activated elsewhere or long ago — one answer for all, so that a kiosk cannot
    learn which codes exist. A wrong code: it counts towards slowing the kiosk down."""
    reason = "invalid"

    def __init__(self, events=()):
        super().__init__(Text("invalid_code", "Sifariş kodu etibarlı deyil. Kodu yoxlayın və"
                              " ya 108-ə zəng edin.", "The order code is not valid. Check the"
                              " code or call 108."), error="invalid_code", events=events)


class OtherCentre(Conflict):
    """The booking is for another centre; ``names``: its ``{"az": …, "en": …}``."""
    reason = "other_centre"

    def __init__(self, names, events=()):
        super().__init__(Text("other_centre", f"Bu növbə başqa mərkəzə aiddir: {names['az']}.",
                              f"This booking is for another centre: {names['en']}."),
                         events=events)
        self.names = names


class TooEarly(Conflict):
    """The booking can be activated only from ``opens`` (an aware datetime)."""
    reason = "too_early"

    def __init__(self, opens, events=()):
        opens = opens.astimezone(BAKU)
        day = day_both(opens.date())
        super().__init__(Text("too_early", f"Hələ tezdir: növbəni {day['az']}, saat"
                              f" {opens:%H:%M}-dan aktivləşdirmək olar.", "Too early: the"
                              f" booking can be activated from {opens:%H:%M} on {day['en']}."),
                         error="too_early", events=events)
        self.opens = opens


class Lapsed(Gone):
    """The booked time and its grace period have passed: the booking lapsed (Q-8)."""
    reason = "lapsed"

    def __init__(self, events=()):
        super().__init__(Text("lapsed", "Təyin olunmuş vaxt keçib; növbə qüvvədən düşüb.",
                              "The booked time has passed; the booking has lapsed."),
                         error="lapsed", events=events)


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


def evolve(state, event):
    """``state`` after one (typed) event of the kiosk's stream."""
    state = replace(state, version=state.version + 1)
    match event:
        case KioskRegistered():
            return replace(state, kiosk_id=event.kiosk_id, centre=event.centre,
                           status="active", credential_hash=event.credential_hash)
        case KioskCredentialRotated():
            return replace(state, credential_hash=event.credential_hash)
        case KioskRevoked():
            return replace(state, status="revoked")
    return state


# The :class:`Kiosk` of a stream's events, oldest first.
fold = folder(Kiosk(), evolve, CATALOG)


def decide_register(kiosk_id, centre, known_centres, credential_hash):
    """D-5: a kiosk of a known centre, with the hash of its first secret."""
    if centre not in known_centres:
        raise UnknownCentre(centre)
    return [KioskRegistered(kiosk_id=kiosk_id, centre=centre, credential_hash=credential_hash)]


def decide_rotate(state, credential_hash):
    """A new secret for an active kiosk; the old one stops working."""
    if state.status == "new":
        raise UnknownKiosk()
    if state.status == "revoked":
        raise KioskIsRevoked()
    return [KioskCredentialRotated(kiosk_id=state.kiosk_id, centre=state.centre,
                                   credential_hash=credential_hash)]


def decide_revoke(state):
    """The kiosk is refused from now on; revoking it again changes nothing."""
    if state.status == "new":
        raise UnknownKiosk()
    if state.status == "revoked":
        return []
    return [KioskRevoked(kiosk_id=state.kiosk_id, centre=state.centre)]


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


def evolve_throttle(throttle, event):
    """The throttle of the kiosk after one of its (typed) ``ActivationRefused`` or
    ``TicketIssued`` events: a wrong code counts (and slows the kiosk down until the
    ``blocked_until`` it carries, when it carries one), a booked ticket clears it; any
    other event leaves it as it was. The one rule: the read model's kiosk row is this
    fold (``read_model.apply``). A refusal stored before refusals carried
    ``blocked_until`` (the field absent, not null) is slowed down by
    :data:`EARLY_POLICY`."""
    match event:
        case ActivationRefused(reason="invalid"):
            if "blocked_until" in event.data:
                until = event.blocked_until and datetime.fromisoformat(event.blocked_until)
            else:
                until = slowed_until(throttle.failures + 1, datetime.fromisoformat(event.at),
                                     EARLY_POLICY)
            return Throttle(throttle.failures + 1, until or throttle.blocked_until)
        case TicketIssued(series="booked"):
            return Throttle()
    return throttle


def check_not_blocked(throttle, now):
    """Raises :class:`SlowedDown` while the kiosk is slowed down."""
    if throttle.blocked_until and throttle.blocked_until > now:
        raise SlowedDown(int((throttle.blocked_until - now).total_seconds()) + 1)


def refusals_stream(kiosk_id):
    """The stream of a kiosk's refused activations: ``kiosk-<id>-refusals``."""
    return f"kiosk-{kiosk_id}-refusals"


def decide_refusal(kiosk_id, centre, throttle, reason, now, policy):
    """An activation refused for ``reason`` (``invalid``, ``other_centre``,
    ``too_early``, ``lapsed``) is recorded; a wrong code (``invalid``) counts towards
    slowing the kiosk down, and says until when it does."""
    blocked_until = slowed_until(throttle.failures + 1, now, policy) \
        if reason == "invalid" else None
    return [ActivationRefused(
        kiosk_id=kiosk_id, centre=centre, reason=reason, at=now.isoformat(),
        blocked_until=blocked_until.isoformat() if blocked_until else None)]


@dataclass(frozen=True)
class BookingAnswer:
    """Booking's answer to an activation (Q-7), as the gateway decides on it.
    ``booking``: the slot (``booking_id``, ``centre``, ``service``, ``date``, ``time``)
    when booking said yes, now or before; ``activated_by``: the kiosk that activated
    it before (``None``: activated now) and ``activated_at`` when (aware, or ``None``
    if booking did not say); ``refused``: the refusal kind of booking's
    "no" (:class:`InvalidCode`, :class:`OtherCentre`, :class:`TooEarly`,
    :class:`Lapsed`), ``details`` its arguments besides the events it keeps."""
    booking: dict | None = None
    activated_by: str | None = None
    activated_at: datetime | None = None
    refused: type | None = None
    details: tuple = ()


def decide_activation(answer, existing, throttle, kiosk_id, centre, now, policy):
    """Q-7: booking's ``answer`` at this kiosk, for the kiosk's refusals stream
    (:func:`refusals_stream`). ``existing``: the ticket printed for the booking, if any.

    Returns ``[]`` when booking's yes stands: print a ticket, or, when ``existing``, show
    it again — the same kiosk asking within ``policy.repeat_window`` of the first
    activation (its answer was lost; the window counts from the ticket, or, when no
    ticket was recorded, from booking's ``activated_at``). Raises booking's "no", or
    :class:`InvalidCode` for a booking activated by another kiosk or longer ago (a used
    code, ticket or not), carrying its ``ActivationRefused`` (:func:`decide_refusal`)."""
    refused, details = answer.refused, answer.details
    if refused is None and answer.activated_by is not None:
        since = existing.issued_at if existing is not None else answer.activated_at
        if answer.activated_by != kiosk_id or since is None \
                or now - since > policy.repeat_window:
            refused, details = InvalidCode, ()
    if refused is not None:
        raise refused(*details, events=decide_refusal(kiosk_id, centre, throttle,
                                                      refused.reason, now, policy))
    return []


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
    return [TicketIssued(
        ticket_id=ticket_id, centre=centre, date=ticket_day(now).isoformat(),
        number=ticket_number(prefix, series, sequence), sequence=sequence,
        series=series, service=service,
        booking_id=booking["booking_id"] if booking else None,
        booked_time=booking["time"] if booking else None, kiosk_id=kiosk_id,
        issued_at=now.isoformat())]


def ticket_of(event):
    """The :class:`~.tickets.Ticket` a (typed) ``TicketIssued`` event describes."""
    return Ticket(str(event.ticket_id), event.centre, date.fromisoformat(event.date),
                  event.number, event.sequence, event.series, event.service,
                  str(event.booking_id) if event.booking_id else None,
                  time.fromisoformat(event.booked_time) if event.booked_time else None,
                  event.kiosk_id, datetime.fromisoformat(event.issued_at).astimezone(BAKU))


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
        raise CentreClosed(hours, baku_today(now))


def decide_walk_in(catalogue, centre, service, kiosk_id, ticket_id, last, now):
    """A ticket without a booking, of a service the centre offers, while it is open
    (Baku wall-clock time); its own number series. Raises :class:`NotOffered` or
    :class:`CentreClosed`."""
    if service not in catalogue["centres"][centre]["services"]:
        raise NotOffered(service)
    if closed_by_staff(catalogue, centre, service, ticket_day(now)):
        raise CentreClosed(None, ticket_day(now))  # staff closed it for the day
    check_open(catalogue, centre, now)
    return decide_ticket(ticket_id, last, centre, service,
                         catalogue["services"][service]["prefix"], "walk_in", kiosk_id, now)


# --- counters: staff desks that call tickets (issue 17 §1, M-2) ---------------------

class UnknownCounter(NotFound):
    """No counter has this id (its stream has no events)."""

    def __init__(self):
        super().__init__(Text("unknown_counter", "Belə masa yoxdur.", "No such counter."))


class CounterIsRevoked(Conflict):
    """The counter is revoked: it gets no new credential."""

    def __init__(self):
        super().__init__(Text("revoked", "Masa ləğv olunub.", "The counter is revoked."))


class NotSignedIn(Conflict):
    """Nobody is signed in at the counter: it calls no ticket."""

    def __init__(self):
        super().__init__(Text(
            "not_signed_in", "Masada heç kim daxil olmayıb: əvvəlcə xidmətləri seçib daxil"
            " olun.", "Nobody is signed in at this counter: sign in for your services first."))


class TicketInProgress(Conflict):
    """The counter has a called ticket: served, no-show or transfer it first."""

    def __init__(self):
        super().__init__(Text(
            "ticket_in_progress", "Çağırılmış bilet hələ bağlanmayıb: xidmət göstərildi,"
            " gəlmədi və ya yönləndir seçin.", "A called ticket is still open: mark it served,"
            " no-show or transfer it first."))


class NoCurrentTicket(Conflict):
    """The counter has no called ticket to act on."""

    def __init__(self):
        super().__init__(Text("no_current_ticket", "Masada çağırılmış bilet yoxdur.",
                              "This counter has no called ticket."))


class NobodyWaiting(NotFound):
    """No ticket of the counter's services is waiting."""

    def __init__(self):
        super().__init__(Text("nobody_waiting", "Seçilmiş xidmətlər üzrə növbədə gözləyən"
                              " yoxdur.", "Nobody is waiting for this counter's services."))


class RecallsExhausted(Conflict):
    """The ticket was recalled ``allowed`` times: record a no-show."""

    def __init__(self, allowed):
        super().__init__(Text(
            "recalls_exhausted", f"Bilet artıq {allowed} dəfə təkrar çağırılıb: \"gəlmədi\""
            " qeyd edin.", f"The ticket was recalled {allowed} times already: record a"
            " no-show."))
        self.allowed = allowed


class RecallFirst(Conflict):
    """A no-show only after ``allowed`` recalls (the visitor gets their chances)."""

    def __init__(self, allowed):
        super().__init__(Text(
            "recall_first", f"\"Gəlmədi\" yalnız {allowed} təkrar çağırışdan sonra qeyd"
            " olunur.", f"A no-show is recorded only after {allowed} recalls."))
        self.allowed = allowed


class SameService(Conflict):
    """A ticket is transferred to another service than its own."""

    def __init__(self):
        super().__init__(Text("same_service", "Bilet artıq bu xidmətin növbəsindədir.",
                              "The ticket is in this service's queue already."))


class NoServices(Rejected):
    """A counter signs in for at least one service (none given)."""

    def __init__(self):
        super().__init__(Text("no_services", "Ən azı bir xidmət seçin.",
                              "Choose at least one service."))


class NameTaken(Conflict):
    """Another active counter of the centre has this name: the board could not tell
    the two apart."""

    def __init__(self, name=None):
        super().__init__(Text(
            "name_taken", "Bu mərkəzdə bu adda masa artıq var: lövhədə onları ayırmaq olmaz.",
            "A counter of this centre already has this name: the board could not tell them"
            " apart."))
        self.name = name


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


def evolve_counter(state, event):
    """``state`` after one (typed) event of the counter's stream."""
    state = replace(state, version=state.version + 1)
    match event:
        case CounterRegistered():
            return replace(state, counter_id=event.counter_id, centre=event.centre,
                           name=event.name, status="active",
                           credential_hash=event.credential_hash)
        case CounterCredentialRotated():
            return replace(state, credential_hash=event.credential_hash)
        case CounterRevoked():
            return replace(state, status="revoked", services=())
        case CounterSignedIn():
            return replace(state, services=tuple(event.services))
        case CounterSignedOut():
            return replace(state, services=())
    return state


# The :class:`Counter` of a stream's events, oldest first.
fold_counter = folder(Counter(), evolve_counter, CATALOG)


def _counter_data(state):
    return {"counter_id": state.counter_id, "centre": state.centre, "name": state.name}


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
    return [CounterRegistered(counter_id=counter_id, centre=centre, name=name,
                              credential_hash=credential_hash)]


def decide_rotate_counter(state, credential_hash):
    """A new secret for an active counter; the old one stops working."""
    if state.status == "new":
        raise UnknownCounter()
    if state.status == "revoked":
        raise CounterIsRevoked()
    return [CounterCredentialRotated(**_counter_data(state), credential_hash=credential_hash)]


def decide_revoke_counter(state):
    """The counter is refused from now on (again: nothing changes); its called ticket,
    if any, is released by :func:`decide_release`."""
    if state.status == "new":
        raise UnknownCounter()
    if state.status == "revoked":
        return []
    return [CounterRevoked(**_counter_data(state))]


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
    return [CounterSignedIn(**_counter_data(state), services=list(wanted), at=now.isoformat())]


def decide_sign_out(state, current, now):
    """Staff sign out; refused while the counter has a called ticket (``current``)."""
    if current is not None:
        raise TicketInProgress()
    if not state.signed_in:
        return []
    return [CounterSignedOut(**_counter_data(state), at=now.isoformat())]


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


def evolve_ticket(state, event):
    """``state`` after one (typed) event of the ticket's stream."""
    state = replace(state, version=state.version + 1)
    match event:
        case TicketIssued():
            return replace(state, ticket_id=str(event.ticket_id), centre=event.centre,
                           day=event.date, number=event.number, series=event.series,
                           service=event.service, issued_at=event.issued_at, status="waiting")
        case TicketCalled():
            return replace(state, status="called", counter_id=event.counter_id,
                           called_at=event.called_at, recalls=0, calls=state.calls + 1,
                           service=event.service)
        case TicketRecalled():
            return replace(state, recalls=event.recalls)
        case TicketTransferred():
            return replace(state, status="waiting", service=event.to_service,
                           counter_id=None, called_at=None, recalls=0)
        case TicketServed():
            return replace(state, status="served")
        case TicketNoShow():
            return replace(state, status="no_show")
    return state


# The :class:`TicketState` of a stream's events, oldest first.
fold_ticket = folder(TicketState(), evolve_ticket, CATALOG)


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
    return [TicketCalled(**_ticket_data(ticket, counter), service=ticket.service,
                         series=ticket.series, counter_name=counter.name,
                         issued_at=ticket.issued_at, called_at=now.isoformat(),
                         first_call=ticket.calls == 0)]


def _current(counter, ticket):
    if ticket is None or ticket.status != "called" or ticket.counter_id != counter.counter_id:
        raise NoCurrentTicket()


def decide_recall(counter, ticket, allowed, now):
    """The counter calls its ticket again, at most ``allowed`` times
    (:class:`RecallsExhausted` after that: record a no-show)."""
    _current(counter, ticket)
    if ticket.recalls >= allowed:
        raise RecallsExhausted(allowed)
    return [TicketRecalled(**_ticket_data(ticket, counter), service=ticket.service,
                           counter_name=counter.name, recalls=ticket.recalls + 1,
                           at=now.isoformat())]


def decide_no_show(counter, ticket, allowed, now):
    """Nobody came: allowed once the ticket was recalled ``allowed`` times
    (:class:`RecallFirst` before)."""
    _current(counter, ticket)
    if ticket.recalls < allowed:
        raise RecallFirst(allowed)
    return [TicketNoShow(**_ticket_data(ticket, counter), service=ticket.service,
                         recalls=ticket.recalls, at=now.isoformat())]


def decide_transfer(counter, ticket, service, offered, now):
    """The visitor needs another service: the ticket waits in ``service``'s queue,
    keeping its place. Raises :class:`NotOffered`, :class:`SameService`."""
    _current(counter, ticket)
    if service not in offered:
        raise NotOffered(service)
    if service == ticket.service:
        raise SameService()
    return [TicketTransferred(**_ticket_data(ticket, counter), from_service=ticket.service,
                              to_service=service, at=now.isoformat())]


def decide_served(counter, ticket, now):
    """The visitor was served at the counter."""
    _current(counter, ticket)
    return [TicketServed(**_ticket_data(ticket, counter), service=ticket.service,
                         called_at=ticket.called_at, served_at=now.isoformat())]


def decide_release(counter, ticket, now):
    """A revoked counter's called ticket waits again in its own queue, keeping its place
    (a transfer to the same service, by the counter that let it go)."""
    if ticket is None or ticket.status != "called":
        return []
    return [TicketTransferred(**_ticket_data(ticket, counter), from_service=ticket.service,
                              to_service=ticket.service, at=now.isoformat())]
