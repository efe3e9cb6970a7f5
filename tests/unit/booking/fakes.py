"""Booking's handlers without a server: a fake unit of work and its in-memory queries
(Cosmic Python's ``FakeUnitOfWork``). The fake keeps each stream's events, validated
by booking's event catalogue and stored as JSON (as the event store keeps them), and
folds them into a small copy of the ``bookings`` and ``slot_usage`` read models; it
answers each query of ``read_model.Queries`` that the handlers ask, from that copy.

:func:`run` is ``ServiceDatabase.run`` without the database: the command's events are
kept when it returns, or when it raises a refusal that ``keeps_record``; any other
refusal leaves nothing, as a rolled back transaction does."""
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time

from services.booking import domain, read_model
from services.booking.events import (CATALOG, BookingRequested, BookingRescheduled,
                                     CodeConfirmed, OrderCodeReissued)
from services.booking.reference import ReferenceData
from services.booking.settings import BookingSettings
from shared.runtime.config import service_config
from shared.runtime.eventstore import UnitOfWork
from shared.vocabulary.errors import Conflict, Reason, Refusal
from shared.runtime.eventstore import ConcurrencyError
from shared.vocabulary.identity import canonical_id_card

REFERENCE = ReferenceData.load()
# Booking's settings as shipped (config.yaml), its caps on: the rules' numbers the
# unit tests decide by (``SHIPPED.policy``, ``.window``, ``.reminders``).
SHIPPED = BookingSettings.from_config(service_config("booking") | {"RATE_LIMITS_ENABLED": True})


@dataclass
class Row:
    """A booking as the fake's ``bookings`` table has it."""
    booking_id: str
    status: str
    centre: str
    service: str
    day: date
    time: time
    id_card: str
    email: str
    phone: str
    client_address: str | None
    hold_expires_at: datetime
    requested_at: datetime
    order_code_hash: str | None = None


@dataclass
class Tables:
    """The fake's committed state: each stream's ``(type, data)`` events, the rows,
    the places taken per slot, the email requests sent."""
    streams: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    taken: dict = field(default_factory=dict)
    sent: list = field(default_factory=list)

    def apply(self, name, data):
        """The read models' change for one event (``read_model.apply``'s, in memory):
        a place taken (409 ``slot_full`` when none is left) or given back, a row's
        status, slot and order code."""
        event = CATALOG.read(name, data)
        if isinstance(event, BookingRequested):
            self._take(event.centre, event.service, event.date, event.time)
            applicant = event.applicant
            self.rows[event.booking_id] = Row(
                event.booking_id, "requested", event.centre, event.service,
                date.fromisoformat(event.date), time.fromisoformat(event.time),
                canonical_id_card(applicant["id_card"]) or applicant["id_card"],
                applicant["email"], applicant["phone"], event.client_address,
                datetime.fromisoformat(event.hold_expires_at),
                datetime.fromisoformat(event.requested_at))
            return
        if "booking_id" not in event.declared:
            return  # a refused form, a closure: no row
        row = self.rows[event.booking_id]
        if isinstance(event, BookingRescheduled):
            self._take(row.centre, row.service, event.date, event.time)
            self._give_back(row)
            row.day, row.time = date.fromisoformat(event.date), time.fromisoformat(event.time)
        if isinstance(event, (CodeConfirmed, OrderCodeReissued)):
            row.order_code_hash = event.order_code_hash
        status = read_model.STATUS.get(type(event))
        if status in read_model.FREES_PLACE:
            self._give_back(row)
        row.status = status or row.status

    def _take(self, centre, service, day, moment):
        key = (centre, service, str(day), str(moment)[:5])
        if self.taken.get(key, 0) >= REFERENCE.services[service].counters:
            text = read_model.SLOT_FULL
            raise Conflict(text, [Reason("time", text.code, text.az, text.en)])
        self.taken[key] = self.taken.get(key, 0) + 1

    def _give_back(self, row):
        key = (row.centre, row.service, row.day.isoformat(), row.time.strftime("%H:%M"))
        self.taken[key] -= 1


class InMemoryQueries:
    """``read_model.Queries`` answered from :class:`Tables` (no locks: one command at
    a time)."""

    def __init__(self, tables):
        self.tables = tables

    def _rows(self):
        return list(self.tables.rows.values())

    def find_by_order_code(self, key, order_code, lock=False, statuses=("confirmed",)):
        code_hash = domain.code_hash(key, "order", order_code)
        found = sorted((row for row in self._rows() if row.order_code_hash == code_hash
                        and row.status in statuses), key=lambda row: row.requested_at)
        if not found:
            return None
        row = found[-1]
        return read_model.Found(row.booking_id, row.status, row.centre, row.service, row.day,
                                row.time, row.id_card, row.client_address)

    def unused_order_code(self, key):
        while True:
            code = domain.new_order_code()
            if self.find_by_order_code(key, code) is None:
                return code

    def counts(self, policy, id_card, visit, address, now, holders=None, except_booking=None):
        def active(row):
            return row.booking_id != except_booking and (
                row.status == "confirmed"
                or (row.status == "requested" and row.hold_expires_at > now))

        rows = self._rows()
        holds = {}
        for what in domain.HOLD_CAPS:
            value = (holders or {}).get(what)
            if value is None or not getattr(policy, f"max_holds_per_{what}"):
                continue
            held = [row.hold_expires_at for row in rows
                    if row.status == "requested" and row.hold_expires_at > now
                    and (row.client_address == value if what == "address" else
                         row.client_address == address
                         and (row.email.lower() == value.lower() if what == "email"
                              else row.phone == value))]
            holds[what] = (len(held), min(held, default=None))
        day = 0
        if policy.max_day_per_address and address is not None:
            day = sum(1 for row in rows if active(row) and row.client_address == address
                      and (row.centre, row.service, row.day)
                      == (visit.centre, visit.service, visit.day))
        return domain.Counts(
            id_card=sum(1 for row in rows if active(row) and row.id_card == id_card
                        and (row.service, row.day) == (visit.service, visit.day)),
            day=day, holds=holds)

    def closed_day(self, centre, day):
        return domain.fold_closure(self.tables.streams.get(domain.closure_stream(centre, day),
                                                           []))

    def lapsed_holds(self, now, limit, visit=None):
        return [row.booking_id for row in sorted(self._rows(), key=lambda r: r.hold_expires_at)
                if row.status == "requested" and row.hold_expires_at <= now
                and (visit is None or (row.centre, row.service, row.day, row.time)
                     == (visit.centre, visit.service, visit.day, visit.time))][:limit]

    def active_on(self, centre, service, day):
        return [row.booking_id for row in sorted(self._rows(), key=lambda r: r.time)
                if (row.centre, row.day) == (centre, day)
                and service in (None, row.service) and row.status in domain.ACTIVE]


class FakeUnitOfWork:
    """The part of ``shared.runtime.eventstore.UnitOfWork`` booking's handlers use, on
    :class:`Tables`: events wait in ``pending`` until :func:`run` commits them."""

    def __init__(self, tables):
        self.tables = tables
        self.queries = InMemoryQueries(tables)
        self.pending, self.sent = [], []

    def _events(self, stream_id):
        events = list(self.tables.streams.get(stream_id, []))
        return events + [event for stream, event in self.pending if stream == stream_id]

    def load(self, stream_id, fold):
        return fold(self._events(stream_id))

    def record(self, stream_id, version, events):
        if not events:
            return
        actual = len(self._events(stream_id))
        if version is not None and version != actual:
            raise ConcurrencyError(stream_id, version, actual)
        for name, data in events:
            normalized = json.loads(json.dumps(CATALOG.normalized(name, data)))
            self.pending.append((stream_id, (name, normalized)))

    # The real write path's one step, on the fake's record: what it keeps is what
    # production keeps.
    decide = UnitOfWork.decide

    def send_private(self, name, subject, data):
        CATALOG.normalized(name, data)
        self.sent.append((name, subject, data))

    def commit(self):
        """Apply the pending events to the tables (a full slot refuses, as the
        projection does in the real transaction) and keep what was sent."""
        for stream_id, (name, data) in self.pending:
            self.tables.apply(name, data)
            self.tables.streams.setdefault(stream_id, []).append((name, data))
        self.tables.sent += self.sent
        self.pending, self.sent = [], []


def run(tables, command):
    """``command(uow)`` on a fresh :class:`FakeUnitOfWork`, committed as
    ``ServiceDatabase.run`` commits (see the module); returns what it returns."""
    uow = FakeUnitOfWork(tables)
    try:
        result = command(uow)
    except Refusal as refusal:
        if refusal.keeps_record:
            _commit(tables, uow)
        raise
    _commit(tables, uow)
    return result


def _commit(tables, uow):
    """The unit of work's events applied all or none: a refusal of the projection (a
    full slot) leaves the tables as they were, as a rolled back transaction does."""
    before = ({stream: list(events) for stream, events in tables.streams.items()},
              {key: Row(**vars(row)) for key, row in tables.rows.items()},
              dict(tables.taken), list(tables.sent))
    try:
        uow.commit()
    except Refusal:
        tables.streams, tables.rows, tables.taken, tables.sent = before
        raise
