"""nameko entrypoints of the booking service: thin. The rules are in ``domain``,
the use cases in ``handlers``."""
import logging
import time as monotonic_time
from datetime import time, timedelta
from pathlib import Path

import eventlet
from marshmallow import ValidationError
from nameko.extensions import DependencyProvider

from shared.edge.auth import require_token
from shared.edge.clients import Clients
from shared.vocabulary.clock import baku_today
from shared.runtime.worker_clock import Clock
from shared.runtime.db import Database
from shared.vocabulary.errors import (Conflict, TooManyRequests, ValidationFailed,
                                      reasons_from_marshmallow)
from shared.edge.http import http, read_json
from shared.edge.idempotency import Once, once
from shared.vocabulary.identity import canonical_date
from shared.edge.platform import PlatformService
from shared.edge.ratelimit import RateLimits
from shared.runtime.rpc import rpc
from shared.runtime.settings import SettingsProvider
from shared.runtime.timer import every

from . import api, domain, handlers, read_model, schemas
from .events import CATALOG
from .reference import ReferenceData
from .settings import BookingSettings

# Built once: a marshmallow schema keeps no state between loads, and building one
# deep-copies its fields (a few per cent of a request's time).
REQUEST_FORM = schemas.BookingRequestSchema()
CONFIRM_FORM = schemas.ConfirmSchema()
ORDER_CODE_FORM = schemas.OrderCodeSchema()
RESCHEDULE_FORM = schemas.RescheduleSchema()
RESEND_FORM = schemas.ResendOrderCodeSchema()
log = logging.getLogger(__name__)
REMINDER_CHUNK, REMINDER_CHUNKS = 200, 100  # up to 20,000 reminders a run
CLOSURE_FORM = schemas.ClosureSchema()


class BookingConfig(DependencyProvider):
    """The reference data and what the handlers and sweeps are given of the settings
    (:class:`BookingSettings`): the code key and the rules' :class:`domain.Policy`,
    the activation :class:`domain.Window`, the :class:`domain.Reminders`; made once at
    start-up."""

    def setup(self):
        """Load the reference data and make the rules from the container's config."""
        settings = BookingSettings.from_config(self.container.config)
        self.reference = ReferenceData.load(extra_closed_days=settings.EXTRA_CLOSED_DAYS)
        self.settings = handlers.Settings(code_key=settings.BOOKING_CODE_KEY,
                                          policy=settings.policy)
        self.window = settings.window
        self.reminders = settings.reminders

    def get_dependency(self, worker_ctx):
        """The same for every worker."""
        return self


def _visit_from_raw(raw, field_errors):
    """The visit fields that parsed on their own, so that the visit rules (Q-1,
    holidays, hours, slot) are reported together with any other wrong field."""
    if {"date", "time", "centre", "service"} & set(field_errors):
        return None
    day = canonical_date(raw.get("date"))
    try:
        moment = time.fromisoformat(str(raw.get("time")))
    except ValueError:
        return None
    if day is None:
        return None
    return domain.Visit(str(raw.get("centre")), str(raw.get("service")), day, moment)


class BookingService(PlatformService):
    """The booking service (seed 000): reference data, the booking process (request,
    confirm, cancel), the sweeps, activation for the kiosk gateway and the call centre's
    search."""
    name = "booking"
    db = Database(CATALOG, migrations=Path(__file__).parent / "migrations",
                  read_model=read_model)
    requests_once = Once()  # a creating request repeated gets its first answer
    settings = SettingsProvider(BookingSettings)
    config = BookingConfig()
    clock = Clock()
    clients = Clients()
    # Issue 12: per client (address), shared by every instance; RATE_LIMITS in config.
    # Moves and lost-code requests per client, and the new order codes per booking.
    limits = RateLimits(("booking_request", "booking_confirm", "booking_cancel",
                         "booking_reschedule", "booking_resend", "booking_resend_per_booking"),
                        decided_elsewhere=[f"holds_per_{what}" for what in domain.HOLD_CAPS])

    # --- reference data ------------------------------------------------------------
    @http("GET", "/centres")
    def centres(self, request):
        """The service centres, their hours and services (reference data)."""
        return [centre.as_dict() for centre in self.config.reference.centres.values()]

    @http("GET", "/services")
    def services(self, request):
        """The services offered, their slot lengths and ticket prefixes."""
        return [service.as_dict() for service in self.config.reference.services.values()]

    @http("GET", "/centres/<string:centre>/services/<string:service>/slots")
    def slots(self, request, centre, service):
        """Q-1: the free places of each slot of a service at a centre on a day."""
        query = schemas.SlotQuerySchema().load(request.args.to_dict())
        with self.db.connection() as conn:
            slots, problems = handlers.free_slots(self._read(conn), self.config.reference,
                                                  centre, service,
                                                  query["date"], self.clock(),
                                                  self.config.settings.policy)
        if problems:
            raise ValidationFailed(problems)
        return slots

    # --- the booking process -------------------------------------------------------
    @http("POST", "/bookings")
    @once
    def request_booking(self, request):
        """Q-1, Q-2, Q-5: every reason at once; a refusal is recorded (M-2). Issue 12:
        counted per client before anything else; holds capped per client, email, phone."""
        now = self.clock()
        client = self.clients.of(request)
        self.limits.check("booking_request", client.key, now)
        raw, form, reasons = {}, None, []
        try:
            raw = read_json(request)
            form = REQUEST_FORM.load(raw)
        except ValidationFailed as refusal:
            reasons = refusal.reasons
        except ValidationError as error:
            reasons = reasons_from_marshmallow(error.messages)
        visit = form["visit"] if form else _visit_from_raw(raw, {r.field for r in reasons})
        if visit is not None:
            reasons += domain.visit_problems(visit, self.config.reference, now,
                                             self.config.settings.policy)
        if reasons:
            channel = raw.get("channel")
            channel = channel if channel in schemas.SELF_SERVICE_CHANNELS else "api"
            self.db.run(lambda uow: handlers.refuse_form(uow, self.config.reference, reasons,
                                                         channel, raw, now))
        try:
            result = self.db.run(lambda uow: handlers.request_booking(
                uow, self.config.reference, self.config.settings, form["applicant"],
                form["visit"], form["language"], form["channel"], now, client.key))
        except TooManyRequests as capped:
            raise self.limits.refused(capped) from None
        result["message"] = {
            "az": "Təsdiqedici şifrə e-poçt ünvanınıza göndərildi.",
            "en": "A confirmation code has been sent to your email address."}
        return 202, result

    @http("POST", "/bookings/<uuid:booking_id>/confirm")
    def confirm(self, request, booking_id):
        """Q-3, Q-4, Q-6: confirm with the emailed code; a wrong one is counted and refused
        422."""
        now = self.clock()
        self.limits.check("booking_confirm", self.clients.of(request).key, now)
        body = read_json(request, CONFIRM_FORM)
        result = self.db.run(lambda uow: handlers.confirm_booking(
            uow, self.config.reference, self.config.settings, str(booking_id), body["code"], now))
        result["message"] = {"az": "Növbə qeydə alındı; sifariş kodu e-poçtunuza göndərildi.",
                             "en": "Your booking is registered; the order code has been "
                                   "sent to your email."}
        return result

    @http("POST", "/bookings/cancel")
    def cancel(self, request):
        """Q-8: cancel with the order code."""
        now = self.clock()
        self.limits.check("booking_cancel", self.clients.of(request).key, now)
        body = read_json(request, ORDER_CODE_FORM)
        result = self.db.run(lambda uow: handlers.cancel_booking(
            uow, self.config.reference, self.config.settings, body["order_code"], now))
        result["message"] = {"az": "Növbə ləğv olundu.", "en": "The booking has been cancelled."}
        return result

    @http("POST", "/bookings/reschedule")
    def reschedule(self, request):
        """Issue 17 §5: move a booking to another day and time with its order code."""
        now = self.clock()
        self.limits.check("booking_reschedule", self.clients.of(request).key, now)
        body = read_json(request, RESCHEDULE_FORM)
        result = self.db.run(lambda uow: handlers.reschedule_booking(
            uow, self.config.reference, self.config.settings, body["order_code"],
            body["date"], body["time"], now))
        result["message"] = {"az": "Növbənin vaxtı dəyişdirildi; yeni vaxt e-poçtunuza"
                                   " göndərildi. Sifariş kodu eyni qalır.",
                             "en": "The booking has been moved; the new time has been sent to"
                                   " your email. The order code stays the same."}
        return result

    @http("POST", "/bookings/visit")
    def visit_to_move(self, request):
        """Issue 17 §5: the centre, service, day and time of the booking of an order
        code (in the body), before the pages show the free times of another day. Read
        only; counted with the moves (a code cannot be guessed by asking here instead)."""
        now = self.clock()
        self.limits.check("booking_reschedule", self.clients.of(request).key, now)
        body = read_json(request, ORDER_CODE_FORM)
        with self.db.connection() as conn:
            return handlers.visit_to_move(self._read(conn), self.config.settings,
                                          body["order_code"], now)

    @http("POST", "/bookings/order-code")
    @once  # a double submit would make two codes, the one emailed last maybe dead
    def resend_order_code(self, request):
        """Issue 17 §5 (resend): a lost order code. The booking is named by the ID
        card, the email and the day of the visit; a new order code goes to the
        booking's own address. One answer whether a booking matched or not (no
        oracle); limited per client, and per booking (silently: a 429 there would
        tell that the booking exists)."""
        started, now = monotonic_time.monotonic(), self.clock()
        self.limits.check("booking_resend", self.clients.of(request).key, now)
        body = read_json(request, RESEND_FORM)
        with self.db.connection() as conn:
            found = handlers.confirmed_bookings_of(self._read(conn), body["id_card"],
                                                   body["email"], body["date"])
        for booking_id in found:
            if self.limits.wait("booking_resend_per_booking", booking_id, now):
                continue  # this booking had its new codes for today: answered alike
            try:
                self.db.run(lambda uow, booking_id=booking_id: handlers.reissue_order_code(
                    uow, self.config.reference, self.config.settings, booking_id, now))
            except Conflict:  # every try lost a race: a 409 here would tell it matched
                log.warning("a new order code lost its races; nothing sent")
        # No timing oracle either: matched or not, the answer leaves at the same time.
        eventlet.sleep(max(0.0, started + self.settings.RESEND_ANSWER_SECONDS
                           - monotonic_time.monotonic()))
        return 202, {"message": {
            "az": "Bu məlumatlara uyğun təsdiqlənmiş növbə varsa, yeni sifariş kodu onun"
                  " e-poçt ünvanına göndərildi; əvvəlki kod artıq etibarlı deyil.",
            "en": "If a confirmed booking matches these details, a new order code has been"
                  " sent to its email address; the previous code no longer works."}}

    @every("REMINDER_SWEEP_SECONDS")
    def send_reminders(self):
        """Issue 17 §4: the reminder email the day before the visit, once per booking."""
        now = self.clock()
        taken = 0
        # A day's reminders in chunks, each its own short transaction (a long one
        # would hold the relays' horizon back: shared/runtime/eventstore.py); bounded, so
        # that a booking the query takes and the domain leaves cannot loop forever.
        for _ in range(REMINDER_CHUNKS):
            chunk = self.db.run(lambda uow: handlers.remind_due(
                uow, self.config.reference, now, self.config.reminders,
                limit=REMINDER_CHUNK))
            taken += chunk
            if chunk < REMINDER_CHUNK:
                break
        return taken

    @every("HOLD_SWEEP_SECONDS")
    def sweep_holds(self):
        """Unconfirmed holds lapse and free their slots."""
        now = self.clock()
        return self.db.run(lambda uow: handlers.expire_holds(uow, now))

    @every("LAPSE_SWEEP_SECONDS")
    def sweep_lapses(self):
        """Q-8: bookings not activated by their time plus grace lapse (no-shows)."""
        now = self.clock()
        return self.db.run(lambda uow: handlers.lapse_due(uow, now, self.config.window))

    # --- the kiosk gateway (D-5: kiosks reach us only through it) ------------------
    @rpc
    def activate(self, order_code, centre, kiosk_id):
        """Q-7: activate the booking named by ``order_code`` at ``centre``; the answer
        is :func:`activation_answer`'s."""
        now = self.clock()
        try:
            slot = self.db.run(lambda uow: handlers.activate_booking(
                uow, self.config.settings, order_code, centre, kiosk_id, now,
                self.config.window))
        except ACTIVATION_REFUSALS as refused:
            return activation_answer(refused)
        return activation_answer(slot)

    @rpc
    def service_catalogue(self):
        """Names and ticket prefixes of the services and centres, for tickets; each
        centre's weekly opening hours and the closed days (public holidays, days
        closed by decision) from yesterday to a year ahead (Baku), for walk-ins."""
        reference = self.config.reference
        today = baku_today(self.clock())
        closed = [day.isoformat() for day in (today + timedelta(days=n) for n in range(-1, 367))
                  if reference.holiday(day)]
        return {"services": {code: {"az": s.az, "en": s.en, "prefix": s.prefix}
                             for code, s in reference.services.items()},
                "centres": {code: {"az": c.az, "en": c.en, "address": c.address,
                                   "services": sorted(c.services),
                                   "hours": c.as_dict()["hours"]}
                            for code, c in reference.centres.items()},
                "closed_days": closed, "as_of": today.isoformat(),
                # Issue 17 §6: days closed by staff, the whole centre (service null)
                # or one service; the gateway refuses walk-ins on them.
                "closures": self._closures(today)}

    def _closures(self, today):
        with self.db.connection() as conn:
            return read_model.closures_between(conn, today - timedelta(days=1),
                                               today + domain.CLOSURE_HORIZON)

    # --- the call centre (Q-9) -----------------------------------------------------
    @http("POST", "/operator/bookings/search")
    def operator_search(self, request):
        """Q-9: the call centre searches bookings (operator token)."""
        require_token(request, self.settings.OPERATOR_TOKEN_SHA256)
        criteria = read_json(request, schemas.OperatorSearchSchema())
        with self.db.connection() as conn:
            return {"bookings": handlers.search(self._read(conn), self.config.settings.code_key,
                                                criteria)}

    @http("GET", "/operator/bookings/<uuid:booking_id>")
    def operator_booking(self, request, booking_id):
        """Q-9: one booking and its whole history, codes hidden (operator token)."""
        require_token(request, self.settings.OPERATOR_TOKEN_SHA256)
        with self.db.connection() as conn:
            found = handlers.search(self._read(conn), self.config.settings.code_key,
                                    {"booking_id": str(booking_id)})
            events = handlers.history(self._read(conn), str(booking_id))
        return {"booking": found[0] if found else None, "history": events}

    # --- closures (issue 17 §6) -----------------------------------------------------
    @http("POST", "/admin/closures")
    @once
    def close_centre(self, request):
        """Issue 17 §6: staff close a centre, or one service at it, for a day (closure
        token): 201 with the closure and the number of that day's bookings cancelled
        (each emailed why, with a link to book again); 409 ``already_closed``."""
        require_token(request, self.settings.CLOSURE_TOKEN_SHA256)
        closure = read_json(request, CLOSURE_FORM)
        now = self.clock()
        return 201, self.db.run(lambda uow: handlers.close_centre(
            uow, self.config.reference, closure, now, self.settings.BOOK_AGAIN_URL))

    @http("GET", "/openapi.json")
    def openapi(self, request):
        """This service's OpenAPI document."""
        return api.spec()

    def _read(self, conn):
        """The read-model queries on ``conn`` (for the handlers that only read)."""
        return read_model.Queries(conn, self.db.store)


# The refusals of an activation, each answered over RPC as a dict of its own.
ACTIVATION_REFUSALS = (domain.InvalidOrderCode, domain.OtherCentre, domain.TooEarly,
                       domain.Lapsed, domain.AlreadyActivated)


def activation_answer(decided):
    """Q-7: booking's RPC answer to an activation, the wire the kiosk gateway reads
    (kept as it is, for instances of different versions side by side): ``decided`` is
    the activated booking's slot (``domain.slot_of``) or a refusal of
    :data:`ACTIVATION_REFUSALS`; the answer ``{"outcome": ...}`` with

    - ``activated``, ``lapsed``: the slot (``booking_id, centre, service, date, time``);
    - ``too_early``: the slot and ``from`` (ISO: when it can be activated);
    - ``other_centre``: ``centre``, the booking's;
    - ``already_activated``: the slot, ``kiosk_id`` and ``activated_at`` (ISO);
    - ``invalid``: nothing more (no hint which codes exist)."""
    if isinstance(decided, dict):
        return {"outcome": "activated", **decided}
    if isinstance(decided, domain.OtherCentre):
        return {"outcome": "other_centre", "centre": decided.centre}
    if isinstance(decided, domain.TooEarly):
        return {"outcome": "too_early", **decided.slot, "from": decided.opens_at.isoformat()}
    if isinstance(decided, domain.Lapsed):
        return {"outcome": "lapsed", **decided.slot}
    if isinstance(decided, domain.AlreadyActivated):
        return {"outcome": "already_activated", **decided.slot, "kiosk_id": decided.kiosk_id,
                "activated_at": decided.activated_at.isoformat()}
    return {"outcome": "invalid"}

