"""The rules of online queue booking (seed 000), pure: no database, no broker, no
clock of its own. Every function takes what it needs, so a unit test reads "given
this state, when this command, then these events (or this refusal)".

The decider: :func:`evolve` folds a booking's events into :class:`Booking`;
``request`` / ``confirm`` / ``cancel`` / ``expire_hold`` decide the new events.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from hashlib import sha256

from shared.vocabulary.clock import baku_now
from shared.vocabulary.decider import folder
from shared.vocabulary.errors import (Conflict, Gone, NotFound, Reason, Rejected, Text,
                                      TooManyRequests, ValidationFailed, slow_down)
# Identifiers (ID card, phone, codes) have one canonical form, read at the boundary
# by shared.vocabulary.fields; the order code's alphabet and printed form are part of it.
from shared.vocabulary.identity import (ORDER_CODE_ALPHABET, ORDER_CODE_LENGTH,  # noqa: F401
                                        format_order_code)
from shared.vocabulary.names import name_problem, normalize_name  # noqa: F401 - the form's name rule

from . import events
from .events import (CATALOG, BookingActivated, BookingCancelled, BookingLapsed, BookingReminded,
                     BookingRequested, BookingRefused, BookingRescheduled, BookingVoided,
                     CodeConfirmed, CodeRejected, HoldExpired, OrderCodeReissued)
from .reference import slot_start

# --- the form (Q-5: every field required, every wrong one named) -------------------
# Names: shared.vocabulary.names (the one rule of every form).


@dataclass(frozen=True)
class Applicant:
    """Who books (Q-5): names by the one rule of ``shared.vocabulary.names``, the ID card and phone
    in their canonical forms, the email as the form normalized it."""
    name: str
    surname: str
    patronymic: str
    id_card: str
    phone: str
    email: str

    def as_dict(self):
        """The applicant as a plain dict, the ``applicant`` of ``BookingRequested``."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Visit:
    """What is booked (Q-1): a centre and service (codes of the reference data), a day
    (Baku) and a slot's start time."""
    centre: str
    service: str
    day: date
    time: time


@dataclass(frozen=True)
class Policy:
    """The booking rules' numbers (Q-1, Q-2, Q-6; issue 12's caps), made from the
    service's settings (``settings.BookingSettings.policy``: their one default is in
    ``config.yaml``)."""
    hold_minutes: float
    max_wrong_codes: int
    horizon_days: int
    max_active_per_id_card: int
    # Issue 12: unconfirmed holds at once per client address, and per email and per
    # phone from that address (None: no cap). An email or a phone is only typed, not
    # proven, until its code comes back: a cap on it across addresses would let anyone
    # lock its owner out by typing it. A family of six books from one address with one
    # email and phone; a carrier NAT puts many citizens behind one address
    # (docs/OPERATIONS.md, "Abuse limits").
    max_holds_per_address: int | None
    max_holds_per_email: int | None
    max_holds_per_phone: int | None
    # ... and the bookings (held or confirmed) of one service at one centre on one day
    # that one address may have: a family's, not a day's worth.
    max_day_per_address: int | None


def visit_problems(visit, reference, now, policy):
    """Reasons why the visit cannot be booked, per field (Q-1, Q-5)."""
    reasons = []

    def refuse(field, code, az, en):
        reasons.append(Reason(field, code, az, en))

    centre = reference.centres.get(visit.centre)
    service = reference.services.get(visit.service)
    if centre is None:
        refuse("centre", "unknown_centre", "Belə xidmət mərkəzi yoxdur.", "No such service centre.")
    if service is None:
        refuse("service", "unknown_service", "Belə xidmət yoxdur.", "No such service.")
    if centre and service and service.code not in centre.services:
        refuse("service", "not_offered", "Bu xidmət seçilmiş mərkəzdə göstərilmir.",
               "This service is not offered at the chosen centre.")
    today = baku_now(now).date()
    if visit.day <= today:
        refuse("date", "too_late",
               "Növbə ən gec gəliş günündən bir gün əvvəl götürülməlidir (Bakı vaxtı ilə).",
               "A booking must be made at the latest one day before the visit (Baku time).")
        return reasons
    if visit.day > today + timedelta(days=policy.horizon_days):
        refuse("date", "beyond_horizon",
               f"Növbə ən çoxu {policy.horizon_days} gün qabağa götürülə bilər.",
               f"A booking can be made at most {policy.horizon_days} days ahead.")
        return reasons
    holiday = reference.holiday(visit.day)
    if holiday:
        refuse("date", "holiday", f"Bu gün bayram (qeyri-iş) günüdür: {holiday}.",
               f"That day is a public holiday: {holiday}.")
        return reasons
    if centre and reference.hours(centre, visit.day) is None:
        refuse("date", "closed", "Mərkəz bu gün işləmir.", "The centre is closed on that day.")
        return reasons
    if centre and service and service.code in centre.services and \
            visit.time not in reference.slot_times(centre, service, visit.day):
        refuse("time", "no_such_slot", "Bu saatda bu xidmət üçün qəbul yoxdur.",
               "There is no appointment for this service at this time.")
    return reasons


# --- unconfirmed holds (issue 12): capped, so that one client cannot hold a day -----

HOLD_CAPS = ("address", "email", "phone")
# what was capped → (the form field to name, in Azerbaijani, in English)
_HELD_BY = {"address": (None, "bu şəbəkə ünvanından", "from your network address"),
            "email": ("email", "bu e-poçt ünvanı ilə", "for this email address"),
            "phone": ("phone", "bu telefon nömrəsi ilə", "for this phone number")}


class HoldsCapped(TooManyRequests):
    """Issue 12: a cap on unconfirmed holds reached (429 ``too_many_holds_<what>``,
    ``Retry-After`` until the first hold lapses)."""


def holds_refusal(held, policy, now):
    """The :class:`HoldsCapped` when a cap on unconfirmed holds is reached, else ``None``.

    ``held``: ``{"address" | "email" | "phone": (holds not yet expired, the earliest
    expiry among them)}``. A cap never locks anyone out: confirming one booking with
    its emailed code frees a place at once, and the wait is until the first hold
    lapses (Retry-After)."""
    for what in HOLD_CAPS:
        cap = getattr(policy, f"max_holds_per_{what}")
        count, earliest = held.get(what, (0, None))
        if cap and count >= cap:
            field, az, en = _HELD_BY[what]
            refused = slow_down(
                f"holds_per_{what}", (earliest - now).total_seconds(), field,
                code=f"too_many_holds_{what}",
                az=f"Təsdiqlənməmiş növbə sorğuları {az} çoxdur (ən çoxu {cap}): birini"
                   " e-poçtla göndərilən şifrə ilə təsdiqləyin və ya {wait} sonra yenidən"
                   " cəhd edin.",
                en=f"There are too many unconfirmed booking requests {en} (at most {cap}):"
                   " confirm one with the code we emailed, or try again in {wait}.")
            return HoldsCapped(refused.message, refused.retry_after, refused.reasons,
                               refused.limit)
    return None


# --- the counted rules: one decision for every path that puts a booking on a day ----

@dataclass(frozen=True)
class Counts:
    """What the counted rules count, read by the caller under the locks of what they
    count (``read_model.counts``), leaving out the booking being moved:

    - ``id_card``: the ID card's active bookings (held or confirmed) of the service on
      the day;
    - ``day``: the client address's bookings (held or confirmed) of the service at
      the centre on the day (0 without an address, or without the cap);
    - ``holds``: ``{"address" | "email" | "phone": (holds not yet expired, the earliest
      expiry among them)}``, for the caps that apply to the path (:func:`holds_refusal`).
    """
    id_card: int = 0
    day: int = 0
    holds: dict = field(default_factory=dict)


ALREADY_BOOKED = Text("already_booked",
                      "Bu şəxsiyyət vəsiqəsi ilə həmin gün bu xidmətə artıq növbə götürülüb.",
                      "A booking for this service on that day already exists for this ID card.")
DAY_TAKEN = Text("day_limit", "Bir şəbəkə ünvanından bir mərkəzdə bir xidmətə bir gün üçün ən"
                 " çoxu {cap} növbə götürmək olar (bir ailənin növbələri). Daha çoxu üçün 108"
                 " Çağrı Mərkəzinə zəng edin.",
                 "From one network address at most {cap} bookings of one service at one centre"
                 " on one day can be made (a family's). For more, call the 108 call centre.")


class AlreadyBooked(Conflict):
    """Q-1: the ID card has ``max_active_per_id_card`` bookings of the service on the
    day (409 ``already_booked``), against hoarding; the reason names ``field`` (the ID
    card of a new booking's form, the date of a move)."""

    def __init__(self, field):
        super().__init__(ALREADY_BOOKED, [Reason(field, ALREADY_BOOKED.code, ALREADY_BOOKED.az,
                                                 ALREADY_BOOKED.en)])


class DayLimitReached(Conflict):
    """Issue 12: the address has ``cap`` bookings of the service at the centre on the
    day (409 ``day_limit``): one client cannot take a day's places, even by confirming
    each with a throw-away email, nor by moving bookings into the day."""

    def __init__(self, cap):
        text = Text(DAY_TAKEN.code, DAY_TAKEN.az.format(cap=cap), DAY_TAKEN.en.format(cap=cap))
        super().__init__(text, [Reason("date", text.code, text.az, text.en)])


class CentreClosed(Conflict):
    """Issue 17 §6: the service at the centre is closed on the day by staff (409
    ``centre_closed``)."""

    def __init__(self):
        super().__init__(CENTRE_CLOSED, [Reason("date", CENTRE_CLOSED.code, CENTRE_CLOSED.az,
                                                CENTRE_CLOSED.en)])


def check_counted(visit, counts, closed_day, policy, now, moving):
    """The counted rules of a booking put on ``visit``'s day, one decision for every
    path that creates or moves a booking (:func:`request`, :func:`reschedule`; an
    operator acting for a citizen). In this order, raising the first that refuses:

    1. at most ``policy.max_active_per_id_card`` bookings per ID card, service and
       day (``counts.id_card``): :class:`AlreadyBooked`;
    2. the caps on unconfirmed holds per address, email and phone (``counts.holds``):
       :class:`HoldsCapped` (429) — for a new booking only: a move (``moving``) takes
       no unconfirmed hold (the booking stays confirmed), so the caps do not apply;
    3. at most ``policy.max_day_per_address`` bookings of the service at the centre
       on the day per client address (``counts.day``): :class:`DayLimitReached`;
    4. not a day ``closed_day`` (:class:`ClosedDay` of ``visit``'s centre and day)
       closes for the service: :class:`CentreClosed`.

    A move's counts leave the booking moved out, so a move within its own day is not
    refused by its own count. Capacity is not counted here: it is the projection's
    invariant (``read_model.apply`` refuses 409 ``slot_full`` when the place is taken).
    """
    if counts.id_card >= policy.max_active_per_id_card:
        raise AlreadyBooked("date" if moving else "id_card")
    if not moving:
        capped = holds_refusal(counts.holds, policy, now)
        if capped is not None:
            raise capped
    cap = policy.max_day_per_address
    if cap and counts.day >= cap:
        raise DayLimitReached(cap)
    if closed_day.closes(visit.service):
        raise CentreClosed()


# --- codes: stored only as keyed hashes -------------------------------

def new_confirmation_code():
    """A fresh six-digit confirmation code (Q-2), e.g. ``"042517"``; only its keyed hash is
    stored."""
    return f"{secrets.randbelow(10 ** 6):06d}"


def new_order_code():
    """A fresh order code (Q-4): ``ORDER_CODE_LENGTH`` characters of
    ``ORDER_CODE_ALPHABET``; only its keyed hash is stored."""
    return "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(ORDER_CODE_LENGTH))


def code_hash(key, purpose, *parts):
    """HMAC-SHA256 with the service's secret key: deterministic (so an order code can
    be looked up), useless without the key (so a leaked table reveals no code)."""
    message = ":".join((purpose, *parts)).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, sha256).hexdigest()


# --- the decider ----------------------------------------------------------------

ACTIVE = ("requested", "confirmed")


@dataclass(frozen=True)
class Booking:
    """A booking's state: the fold of its stream's events (D-1). ``status``: new, requested,
    confirmed, void, expired, cancelled, activated or lapsed; ``version``: events folded
    so far."""
    booking_id: str | None = None
    status: str = "new"
    centre: str | None = None
    service: str | None = None
    day: date | None = None
    time: time | None = None
    code_hash: str | None = None
    hold_expires_at: datetime | None = None
    attempts_left: int = 0
    order_code_hash: str | None = None
    version: int = 0
    # Whom the emails about the booking go to, in which language.
    name: str | None = None
    email: str | None = None
    language: str | None = None
    # Issue 17 §4/§5: when the citizen was last told the booking's time (confirmed or
    # rescheduled) and the day a reminder went out for.
    told_at: datetime | None = None
    reminded_for: date | None = None
    # which kiosk activated it, when.
    activated_by: str | None = None
    activated_at: datetime | None = None

    @property
    def stream_id(self):
        """``booking-<booking_id>``: the booking's event stream."""
        return f"booking-{self.booking_id}"


# The status each of these events leaves a booking in.
_STATUS = {BookingVoided: "void", HoldExpired: "expired", BookingCancelled: "cancelled",
           BookingLapsed: "lapsed"}


def evolve(state, event):
    """The state after one more typed event of the booking's stream."""
    state = replace(state, version=state.version + 1)
    state = _evolve_after_confirmation(state, event)
    match event:
        case BookingRequested():
            return replace(state, booking_id=event.booking_id, status="requested",
                           centre=event.centre, service=event.service,
                           day=date.fromisoformat(event.date),
                           time=time.fromisoformat(event.time), code_hash=event.code_hash,
                           hold_expires_at=datetime.fromisoformat(event.hold_expires_at),
                           attempts_left=event.max_wrong_codes,
                           name=event.applicant["name"], email=event.applicant["email"],
                           language=event.language)
        case CodeRejected():
            return replace(state, attempts_left=event.attempts_left)
        case CodeConfirmed():
            return replace(state, status="confirmed", code_hash=None,
                           order_code_hash=event.order_code_hash)
        case BookingActivated():
            return replace(state, status="activated", activated_by=event.kiosk_id,
                           activated_at=datetime.fromisoformat(event.activated_at))
    status = _STATUS.get(type(event))
    return replace(state, status=status) if status else state


# The :class:`Booking` that a stream's events (typed, or ``(event_type, data)`` pairs
# read through the catalogue), in stream order, make.
fold = folder(Booking(), evolve, CATALOG)


def request(booking_id, applicant, visit, counts, closed_day, language, channel, code_hash_,
            now, policy, client_address=None):
    """Q-1, Q-2: a valid form (the caller checked :func:`visit_problems`) holds the slot
    and a code goes out by email: ``[BookingRequested]``, once the counted rules
    (:func:`check_counted`, on ``counts`` and the day's ``closed_day``) let it."""
    check_counted(visit, counts, closed_day, policy, now, moving=False)
    hold_expires_at = now + timedelta(minutes=policy.hold_minutes)
    return [BookingRequested(
        booking_id=booking_id, centre=visit.centre, service=visit.service,
        date=visit.day.isoformat(), time=visit.time.strftime("%H:%M"),
        language=language, channel=channel, requested_at=now.isoformat(),
        hold_expires_at=hold_expires_at.isoformat(), code_hash=code_hash_,
        max_wrong_codes=policy.max_wrong_codes, applicant=applicant.as_dict(),
        client_address=client_address)]


class CodeRefused(Rejected):
    """Q-6: a confirmation code refused (wrong, too many wrong, expired). It carries
    the events decided with it (CodeRejected, BookingVoided, HoldExpired), recorded
    before the refusal is sent (``UnitOfWork.decide``)."""

    error = "code_refused"


class FormRefused(ValidationFailed):
    """Q-5, M-2: a refused booking form (400, every reason); it carries its
    ``BookingRefused``, recorded all the same (:func:`refuse_form`)."""

    def __init__(self, reasons, events=()):
        super().__init__(reasons, events=events)


# The annex form's fields: a reason about anything else (a key a client made up) is
# recorded without its name, which is typed text too.
FORM_FIELDS = frozenset(("name", "surname", "patronymic", "id_card", "phone", "email", "service",
                         "centre", "date", "time", "language", "channel"))


def refuse_form(refusal_id, reasons, channel, raw, reference, now):
    """Q-5 and M-2: raises :class:`FormRefused` with ``reasons``, carrying its
    ``BookingRefused`` (which fields, which reasons; the centre and service only when
    they are codes we know, never what was typed in ``raw``, the form as sent)."""
    centre, service = raw.get("centre"), raw.get("service")
    raise FormRefused(reasons, events=[BookingRefused(
        refusal_id=refusal_id, channel=channel, refused_at=now.isoformat(),
        centre=centre if isinstance(centre, str) and centre in reference.centres else None,
        service=service if isinstance(service, str) and service in reference.services
        else None,
        reasons=[{"field": reason.field if reason.field in FORM_FIELDS else None,
                  "code": reason.code} for reason in reasons])])


def confirm(state, code_is_right, order_code_hash, now):
    """Q-3, Q-4, Q-6: ``[CodeConfirmed]`` for the right code in time. Raises
    ``NotFound(no_booking)``, ``Conflict(already_confirmed | not_pending)``, or
    :class:`CodeRefused` with the events it keeps: ``[HoldExpired]`` (``code_expired``),
    ``[CodeRejected]`` (``wrong_code``, the tries left), ``[CodeRejected,
    BookingVoided]`` (``too_many_wrong_codes``)."""
    if state.status == "new":
        raise NotFound(Text("no_booking", "Belə sorğu tapılmadı.", "No such booking request."))
    if state.status == "confirmed":
        raise Conflict(Text("already_confirmed", "Bu növbə artıq təsdiqlənib.",
                            "This booking has already been confirmed."))
    if state.status != "requested":
        raise Conflict(Text("not_pending", "Bu sorğu artıq qüvvədə deyil; yenidən növbə götürün.",
                            "This request is no longer valid; please book again."))
    if now >= state.hold_expires_at:
        raise CodeRefused(Text("code_expired",
                               "Təsdiqedici şifrənin vaxtı keçib; yenidən növbə götürün.",
                               "The confirmation code has expired; please book again."),
                          events=[HoldExpired(booking_id=state.booking_id,
                                              expired_at=now.isoformat())])
    if not code_is_right:
        left = state.attempts_left - 1
        kept = [CodeRejected(booking_id=state.booking_id, attempts_left=left)]
        if left <= 0:
            kept.append(BookingVoided(booking_id=state.booking_id,
                                      reason="too_many_wrong_codes"))
            raise CodeRefused(Text(
                "too_many_wrong_codes", "Şifrə dəfələrlə səhv daxil edildi; sorğu ləğv olundu.",
                "The code was entered wrongly too many times; the request is void."),
                events=kept)
        wrong = Text("wrong_code", f"Təsdiqedici şifrə səhvdir. Qalan cəhdlər: {left}.",
                     f"The confirmation code is wrong. Tries left: {left}.")
        raise CodeRefused(wrong, [Reason("code", wrong.code, wrong.az, wrong.en)], events=kept)
    return [CodeConfirmed(
        booking_id=state.booking_id, centre=state.centre, service=state.service,
        date=state.day.isoformat(), time=state.time.strftime("%H:%M"),
        confirmed_at=now.isoformat(), order_code_hash=order_code_hash)]


def cancel(state, now):
    """Cancellation by the citizen with the order code."""
    if state.status != "confirmed":
        raise NotFound(Text("no_active_booking", "Bu sifariş koduna aktiv növbə yoxdur.",
                            "There is no active booking with this order code."))
    if now >= slot_start(state.day, state.time):
        raise Conflict(Text("visit_started", "Növbənin vaxtı artıq çatıb; ləğv etmək olmaz.",
                            "The booked time has come; the booking can no longer be cancelled."))
    return [BookingCancelled(booking_id=state.booking_id, cancelled_at=now.isoformat(),
                             by="citizen")]


@dataclass(frozen=True)
class Window:
    """When a booking can be activated at the kiosk: from ``early`` before the booked
    time until ``grace`` after it (``ACTIVATION_EARLY_MINUTES``,
    ``ACTIVATION_GRACE_MINUTES``; ASAN practice: 30 and 10 minutes)."""
    early: timedelta
    grace: timedelta


def slot_of(state):
    """What a booking is for: the slot, as events and the kiosk gateway carry it."""
    return {"booking_id": state.booking_id, "centre": state.centre, "service": state.service,
            "date": state.day.isoformat(), "time": state.time.strftime("%H:%M")}


# the ways an activation is refused. Booking's RPC answers each as a dict
# of its own (``service.activation_answer``); their texts are for logs and tests, the
# kiosk gateway words its own refusals.

class InvalidOrderCode(NotFound):
    """No active booking for the code (unknown, used, cancelled): one answer for all,
    so a kiosk cannot learn which codes exist."""

    def __init__(self):
        super().__init__(NO_ACTIVE_BOOKING)


class OtherCentre(Conflict):
    """The booking is for another centre: ``centre`` (its code)."""

    def __init__(self, centre):
        super().__init__(Text("other_centre", "Bu növbə başqa mərkəz üçündür.",
                              "This booking is for another centre."))
        self.centre = centre


class TooEarly(Conflict):
    """Too early: the booking (``slot``, :func:`slot_of`) can be activated from
    ``opens_at`` (aware) on."""

    def __init__(self, slot, opens_at):
        super().__init__(Text("too_early", "Növbəni hələ aktivləşdirmək olmaz.",
                              "The booking cannot be activated yet."))
        self.slot, self.opens_at = slot, opens_at


class Lapsed(Gone):
    """Its time plus the grace period has passed: the booking (``slot``) lapses, and
    its ``BookingLapsed`` is kept."""

    def __init__(self, slot, events):
        super().__init__(Text("lapsed", "Növbənin vaxtı keçib.", "The booking has lapsed."),
                         events=events)
        self.slot = slot


class AlreadyActivated(Conflict):
    """Activated before, by ``kiosk_id`` at ``activated_at`` (aware): the gateway tells
    a repeat of its own kiosk from a code used elsewhere."""

    def __init__(self, slot, kiosk_id, activated_at):
        super().__init__(Text("already_activated", "Bu növbə artıq aktivləşdirilib.",
                              "This booking has already been activated."))
        self.slot, self.kiosk_id, self.activated_at = slot, kiosk_id, activated_at


def activate(state, centre, kiosk_id, now, window):
    """Q-7, Q-8: ``[BookingActivated]`` for a confirmed booking at its centre within
    its window. Raises :class:`AlreadyActivated`, :class:`InvalidOrderCode` (not
    confirmed: unknown, used, cancelled, lapsed), :class:`OtherCentre`,
    :class:`TooEarly`, or :class:`Lapsed` carrying its ``BookingLapsed``."""
    if state.status == "activated":
        raise AlreadyActivated(slot_of(state), state.activated_by, state.activated_at)
    if state.status != "confirmed":
        raise InvalidOrderCode()
    if centre != state.centre:
        raise OtherCentre(state.centre)
    starts = slot_start(state.day, state.time)
    if now < starts - window.early:
        raise TooEarly(slot_of(state), starts - window.early)
    if now > starts + window.grace:
        raise Lapsed(slot_of(state), lapse(state, now, window))
    return [BookingActivated(**slot_of(state), activated_at=now.isoformat(),
                             kiosk_id=kiosk_id)]


def lapse(state, now, window):
    """Q-8: a booking not activated by its time plus the grace period lapses."""
    if state.status != "confirmed" or now <= slot_start(state.day, state.time) + window.grace:
        return []
    return [BookingLapsed(**slot_of(state), lapsed_at=now.isoformat())]


def expire_hold(state, now):
    """An unconfirmed hold lapses and frees the slot."""
    if state.status != "requested" or now < state.hold_expires_at:
        return []
    return [HoldExpired(booking_id=state.booking_id, expired_at=now.isoformat())]


# --- issue 17 §4, §5: reminder, reschedule, a new order code -----------------------

def _evolve_after_confirmation(state, event):
    """What the events of a confirmed booking's life change (issue 17): when the
    citizen was told its time, a new visit, the day reminded for, a new order code."""
    match event:
        case CodeConfirmed():
            return replace(state, told_at=datetime.fromisoformat(event.confirmed_at))
        case BookingRescheduled():
            return replace(state, day=date.fromisoformat(event.date),
                           time=time.fromisoformat(event.time),
                           told_at=datetime.fromisoformat(event.rescheduled_at))
        case BookingReminded():
            return replace(state, reminded_for=date.fromisoformat(event.date))
        case OrderCodeReissued():
            return replace(state, order_code_hash=event.order_code_hash)
    return state


NO_ACTIVE_BOOKING = Text("no_active_booking", "Bu sifariş koduna aktiv növbə yoxdur.",
                         "There is no active booking with this order code.")
SAME_TIME = Text("same_time", "Növbə artıq bu gün və saata təyin olunub.",
                 "The booking is already for this day and time.")


VISIT_STARTED = Text("visit_started", "Növbənin vaxtı artıq çatıb; dəyişmək olmaz.",
                     "The booked time has come; the booking can no longer be moved.")


def movable(status, day, moment, now):
    """Issue 17 §5: a booking of ``status`` at ``day`` ``moment`` (Baku) can still be
    moved at ``now``: it is confirmed and its time has not come. Raises
    ``NotFound(no_active_booking)`` or ``Conflict(visit_started)``; what
    :func:`reschedule` checks first, and what the pages ask before showing the free
    times of another day."""
    if status != "confirmed":
        raise NotFound(NO_ACTIVE_BOOKING)
    if now >= slot_start(day, moment):
        raise Conflict(VISIT_STARTED)


def reschedule(state, visit, counts, closed_day, reference, now, policy):
    """Issue 17 §5: a confirmed booking, not yet activated, moves to ``visit`` (same
    centre and service, a new day and time) under the rules of a new booking: Q-1
    (a day ahead in Baku, within the horizon, a working day, a slot of the service),
    then the counted rules (:func:`check_counted` on ``counts``, which leave this
    booking out, and ``closed_day``; no caps on holds: a move takes none). The place
    changes hands when the event is applied (read_model: 409 ``slot_full``).

    Raises ``NotFound(no_active_booking)`` (as cancellation: no hint which codes
    exist), ``Conflict(visit_started)`` once the booked time has come,
    ``Conflict(same_time)``, ``ValidationFailed`` with the visit's reasons, or a
    refusal of :func:`check_counted`."""
    movable(state.status, state.day, state.time, now)
    if (visit.day, visit.time) == (state.day, state.time):
        raise Conflict(SAME_TIME, [Reason("time", SAME_TIME.code, SAME_TIME.az, SAME_TIME.en)])
    problems = visit_problems(visit, reference, now, policy)
    if problems:
        raise ValidationFailed(problems)
    check_counted(visit, counts, closed_day, policy, now, moving=True)
    return [BookingRescheduled(
        **slot_of(replace(state, day=visit.day, time=visit.time)),
        previous_date=state.day.isoformat(), previous_time=state.time.strftime("%H:%M"),
        rescheduled_at=now.isoformat())]


@dataclass(frozen=True)
class Reminders:
    """Issue 17 §4: the reminder the day before the visit goes out from ``hour``
    (Baku wall clock) on; a booking confirmed or rescheduled less than ``quiet``
    before is reminded once that has passed — and not at all if that is only on the
    visit's day: the email that told its time a few hours ago is its reminder."""
    hour: int
    quiet: timedelta

    def due_day(self, now):
        """The day whose bookings are due a reminder at ``now`` (tomorrow, Baku), or
        ``None`` before ``hour``."""
        local = baku_now(now)
        return local.date() + timedelta(days=1) if local.hour >= self.hour else None


def remind(state, now, reminders):
    """Issue 17 §4: ``BookingReminded`` for a confirmed booking (not cancelled,
    activated, lapsed) whose visit is tomorrow (Baku), once per booking and day —
    a booking moved to another day is reminded of that one; else nothing."""
    if state.status != "confirmed" or state.day != reminders.due_day(now) \
            or state.reminded_for == state.day:
        return []
    if state.told_at is not None and now < state.told_at + reminders.quiet:
        return []
    return [BookingReminded(**slot_of(state), reminded_at=now.isoformat())]


def reissue_order_code(state, order_code_hash, now):
    """Issue 17 §5 (resend): a confirmed booking gets a new order code (only hashes are
    kept, so the old one cannot be sent again); the old one stops working. Nothing
    for a booking that is not confirmed (the caller answers alike either way)."""
    if state.status != "confirmed":
        return []
    return [OrderCodeReissued(booking_id=state.booking_id, reissued_at=now.isoformat(),
                              order_code_hash=order_code_hash)]


# --- closures (issue 17 §6): a centre, or one service at it, closed for a day ----------
# A closure is the stream ``closure-<centre>-<date>`` (one per centre and day, whatever
# the service): closing takes its lock, a new booking of that centre and day reads it
# under a shared lock, so the two take turns and a booking racing a closure is either
# refused by it or cancelled by it, never left standing (handlers.close_centre).

# The reasons staff may give (their public codes: events.CLOSURE_REASONS), each with
# the words the emails use.
CLOSURE_REASONS = {
    "technical_fault": ("texniki nasazlıq", "a technical fault"),
    "power_outage": ("elektrik enerjisinin kəsilməsi", "a power outage"),
    "emergency": ("fövqəladə vəziyyət", "an emergency"),
    "public_event": ("ictimai tədbir", "a public event"),
    "other": ("gözlənilməz hallar", "unforeseen circumstances"),
}
# How far ahead a day may be closed: the service catalogue carries closures this far.
CLOSURE_HORIZON = timedelta(days=366)

CENTRE_CLOSED = Text("centre_closed", "Mərkəz həmin gün bu xidmət üçün bağlıdır; başqa gün seçin.",
                     "The centre is closed for this service on that day; please choose "
                     "another day.")
ALREADY_CLOSED = Text("already_closed", "Mərkəz həmin gün bu xidmət üçün artıq bağlanıb.",
                      "The centre is already closed for this service on that day.")


@dataclass(frozen=True)
class Closure:
    """What staff close (§6): ``centre`` (a code), ``service`` (a code, or ``None`` for
    the whole centre), ``day`` (Baku) and ``reason`` (a :data:`CLOSURE_REASONS` code)."""
    centre: str
    service: str | None
    day: date
    reason: str


@dataclass(frozen=True)
class ClosedDay:
    """A centre's day as its closures left it (the fold of ``closure-<centre>-<date>``):
    ``whole`` when the whole centre is closed, else the ``services`` closed."""
    whole: bool = False
    services: frozenset = frozenset()
    version: int = 0

    def closes(self, service):
        """Whether ``service`` (a code) cannot be booked that day."""
        return self.whole or service in self.services


def closure_stream(centre, day):
    """``closure-<centre>-<date>``: the stream of a centre's closures of ``day``."""
    return f"closure-{centre}-{day.isoformat()}"


def evolve_closure(state, event):
    """The :class:`ClosedDay` after one more typed event of a closure stream."""
    state = replace(state, version=state.version + 1)
    # the event (the refusal of a booking on a closed day is this module's CentreClosed)
    if not isinstance(event, events.CentreClosed):
        return state
    if event.service is None:
        return replace(state, whole=True)
    return replace(state, services=state.services | {event.service})


# The :class:`ClosedDay` of a closure stream's events.
fold_closure = folder(ClosedDay(), evolve_closure, CATALOG)


def closed_refusal(state, service):
    """:class:`CentreClosed` when ``service`` is closed on the day ``state`` folds,
    else ``None``."""
    return CentreClosed() if state.closes(service) else None


def closure_problems(closure, reference, now):
    """Why ``closure`` cannot be made, per field (400): an unknown centre, a service it
    does not offer, an unknown reason, a day that is over (a past day, or today after
    closing time: closing *today* is an emergency, and is possible until the centre
    closes), a day the centre does not work, or one beyond :data:`CLOSURE_HORIZON`."""
    reasons = []

    def refuse(field, code, az, en):
        reasons.append(Reason(field, code, az, en))

    centre = reference.centres.get(closure.centre)
    if centre is None:
        refuse("centre", "unknown_centre", "Belə xidmət mərkəzi yoxdur.", "No such service centre.")
    if closure.service is not None and closure.service not in reference.services:
        refuse("service", "unknown_service", "Belə xidmət yoxdur.", "No such service.")
    elif centre and closure.service is not None and closure.service not in centre.services:
        refuse("service", "not_offered", "Bu xidmət seçilmiş mərkəzdə göstərilmir.",
               "This service is not offered at the chosen centre.")
    if closure.reason not in CLOSURE_REASONS:
        refuse("reason", "unknown_reason", "Belə bağlanma səbəbi yoxdur.",
               "No such reason for a closure.")
    local = baku_now(now)
    hours = reference.hours(centre, closure.day) if centre else None
    if closure.day < local.date() or (closure.day == local.date() and hours
                                      and local.time() >= hours[1]):
        refuse("date", "day_over", "Həmin gün artıq başa çatıb; bağlamaq olmaz.",
               "That day is over; it can no longer be closed.")
    elif closure.day > local.date() + CLOSURE_HORIZON:
        refuse("date", "beyond_horizon", "Mərkəzi ən çoxu bir il qabağa bağlamaq olar.",
               "A centre can be closed at most a year ahead.")
    elif centre and hours is None:
        refuse("date", "not_open", "Mərkəz həmin gün onsuz da işləmir.",
               "The centre does not work on that day anyway.")
    return reasons


def check_close(state, closure, reference, now):
    """Raises the refusal of ``closure`` on the day ``state`` folds: 400 with
    :func:`closure_problems`, or 409 ``already_closed`` when what it closes is closed
    already (the same closure twice changes nothing)."""
    problems = closure_problems(closure, reference, now)
    if problems:
        raise ValidationFailed(problems)
    if state.whole or closure.service in state.services:
        raise Conflict(ALREADY_CLOSED, [Reason("date", ALREADY_CLOSED.code, ALREADY_CLOSED.az,
                                               ALREADY_CLOSED.en)])


def close(closure_id, closure, now, cancelled):
    """§6: ``CentreClosed``, once its day's bookings (``cancelled`` of them) were
    cancelled (:func:`cancel_for_closure`) — checked first by :func:`check_close`."""
    return [events.CentreClosed(
        closure_id=closure_id, centre=closure.centre, service=closure.service,
        date=closure.day.isoformat(), reason=closure.reason,
        closed_at=now.isoformat(), cancelled=cancelled)]


def closes_booking(closure, state):
    """Whether ``closure`` is about the booking ``state`` (its centre, day and service)."""
    return (state.centre == closure.centre and state.day == closure.day
            and closure.service in (None, state.service))


def cancel_for_closure(state, closure_id, closure, now):
    """§6: a booking of a closed day, held or confirmed, is cancelled ``by`` the
    closure; a hold that had lapsed unswept expires instead (no one is waiting for
    it); one activated, cancelled or lapsed stays as it is (an activated visitor was
    at the centre already)."""
    if not closes_booking(closure, state):
        return []
    if state.status == "requested" and now >= state.hold_expires_at:
        return expire_hold(state, now)
    if state.status not in ACTIVE:
        return []
    return [BookingCancelled(booking_id=state.booking_id, cancelled_at=now.isoformat(),
                             by="closure", closure_id=closure_id)]


def closure_reason_words(reason, language):
    """The words for ``reason`` in ``language`` (``az`` or ``en``), for the emails."""
    az, en = CLOSURE_REASONS[reason]
    return az if language == "az" else en
