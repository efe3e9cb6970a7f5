"""The FIN lookup (seed 001): by ID card (F-1) or by name, surname, patronymic and
birth date (F-2), with its uniform refusal (F-4), its audit (F-6); the throttle
that never locks an honest person out (F-5) is the shared limiter (shared.ratelimit)."""
import time
import uuid
from dataclasses import dataclass
from datetime import date

from marshmallow import Schema, ValidationError, fields, validates, validates_schema
from psycopg.types.json import Jsonb

from shared import fields as asan
from shared.clock import validation_today
from shared.errors import Conflict, NotFound, Text, slow_down
from shared.eventstore import NO_STREAM

from . import names
from .schema import LENIENT_KEY

CHANNELS = ("web", "api", "kiosk", "call_centre")


class IdCardQuery(Schema):
    id_card = asan.IdCard(required=True, metadata={"description": "Ş/V seriyası və nömrəsi",
                                                   "example": "AZE12345678"})
    channel = fields.String(load_default="api", metadata={"enum": list(CHANNELS)})

    @validates("channel")
    def known_channel(self, value, **_):
        if value not in CHANNELS:
            raise ValidationError(Text("channel", "Kanal tanınmadı.", "Unknown channel."))


def _letters_problem(value):
    folded = names.fold(value)
    if not 1 <= len(folded) <= 60 or not all(ch.isalpha() or ch in " -'" for ch in folded):
        return Text("letters", "Yalnız hərflər yazılmalıdır.", "Only letters are allowed.")
    return None


class NameQuery(Schema):
    name = fields.String(required=True, metadata={"example": "İlham"})
    surname = fields.String(required=True, metadata={"example": "Məmmədov"})
    patronymic = fields.String(required=True, metadata={"example": "Əli oğlu"})
    birth_date = asan.Date(required=True, metadata={"example": "1985-04-17"})
    channel = fields.String(load_default="api", metadata={"enum": list(CHANNELS)})

    @validates_schema(skip_on_field_errors=False)  # every reason at once
    def letters_and_dates(self, data, **_):
        problems = {}
        for field in ("name", "surname", "patronymic"):
            if field in data:
                problem = _letters_problem(data[field])
                if problem:
                    problems[field] = [problem]
        born = data.get("birth_date")
        if born and not date(1900, 1, 1) <= born <= validation_today():
            problems["birth_date"] = [Text("birth_date", "Doğum tarixi düzgün deyil.",
                                           "The birth date is not plausible.")]
        if data.get("channel", "api") not in CHANNELS:
            problems["channel"] = [Text("channel", "Kanal tanınmadı.", "Unknown channel.")]
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True)
class Answer:
    outcome: str  # found | not_found | ambiguous
    fin: str | None = None


def by_id_card(conn, id_card, today):
    """F-1: only a valid, unexpired card answers. ``id_card`` is canonical
    (``shared.fields.IdCard``), as the cards are stored."""
    row = conn.execute("SELECT fin FROM id_documents WHERE series_number = %s"
                       " AND status = 'valid' AND expires_on >= %s",
                       (id_card, today)).fetchone()
    return Answer("found", row[0].strip()) if row else Answer("not_found")


def by_name(conn, name, surname, patronymic, birth_date):
    """F-2: an exact match on the folded key, with İ, I, ı and i as one letter
    (``names.lenient_key``): "IBRAHIMOVA" finds İbrahimova. Found only when that
    names one person; two or more → ambiguous, never a FIN that is not certain."""
    rows = conn.execute(f"SELECT fin FROM persons WHERE {LENIENT_KEY} = %s LIMIT 2",
                        (names.lenient_key(name, surname, patronymic, birth_date),)).fetchall()
    if len(rows) == 1:
        return Answer("found", rows[0][0].strip())
    return Answer("ambiguous" if rows else "not_found")


NOT_FOUND = NotFound(Text(
    "not_found", "Daxil edilən məlumatlara uyğun şəxs tapılmadı. Məlumatları yoxlayıb yenidən"
    " cəhd edin.", "No person matches the data entered. Check the data and try again."),
    error="not_found")


def refusal(answer):
    """F-4: one message whichever field was wrong."""
    if answer.outcome == "ambiguous":
        return Conflict(Text(
            "ambiguous", "Bu məlumatlara bir neçə şəxs uyğundur; şəxsiyyət vəsiqəsi ilə axtarın.",
            "More than one person matches; please search by ID card."), error="ambiguous")
    return NotFound(NOT_FOUND.message, error="not_found")


def audit(uow, method, asked, client, channel, answer_outcome, fin, started, asked_at):
    """F-6: every query registered, durably, in the transaction that answers it: the full
    record (what was asked, from where, what was answered) in ``fin_queries``, and the
    public ``FinQueried`` (no personal data: no FIN, name, date, card or address) on a
    stream of its own, ``finquery-<query_id>``, appended at version 1. Returns the id.

    A stream per query, not one per day: a shared stream's next version is a point every
    lookup of the day must pass one at a time (each reads ``max(version)`` and the next
    one's insert conflicts until it commits), so lookups would be as fast as one
    connection. A new stream never has a competing writer, and the event stays in the
    registry's log, where the monitoring rebuild reads it (``read_all``) like any other.
    """
    query_id = str(uuid.uuid4())
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    uow.conn.execute(
        "INSERT INTO fin_queries (query_id, asked_at, method, asked, client, channel, outcome,"
        " answered_fin, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (query_id, asked_at, method, _json(asked), client, channel, answer_outcome, fin,
         latency_ms))
    stream = f"finquery-{query_id}"
    uow.append(stream, NO_STREAM, uow.new_event("FinQueried", stream, {
        "query_id": query_id, "method": method, "outcome": answer_outcome,
        "latency_ms": latency_ms, "channel": channel, "asked_at": asked_at.isoformat()}))
    return query_id


def _json(value):
    return Jsonb({k: (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()})


def throttled(wait):
    """F-5: a short wait, never a lock-out (the shared limiter, ``fin_lookup``)."""
    return slow_down("fin_lookup", wait,
                     az="Çox sayda sorğu; {wait} sonra yenidən cəhd edin.",
                     en="Too many queries; please try again in {wait}.")
