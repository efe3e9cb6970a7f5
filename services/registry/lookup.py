"""The FIN lookup (seed 001): by ID card (F-1) or by name, surname, patronymic and
birth date (F-2), with its uniform refusal (F-4), its throttle that never locks an
honest person out (F-5) and its audit (F-6)."""
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date

from marshmallow import Schema, ValidationError, fields, validates, validates_schema
from psycopg.types.json import Jsonb

from shared import fields as asan
from shared.clock import baku_today, validation_today
from shared.errors import Conflict, NotFound, Text, TooManyRequests

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
    """F-6: the full record stays here; the public event carries no personal data."""
    query_id = str(uuid.uuid4())
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    uow.conn.execute(
        "INSERT INTO fin_queries (query_id, asked_at, method, asked, client, channel, outcome,"
        " answered_fin, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (query_id, asked_at, method, _json(asked), client, channel, answer_outcome, fin,
         latency_ms))
    stream = f"query-{baku_today(asked_at).isoformat()}"  # F-6: the Baku day it arrived
    uow.append(stream, None, uow.new_event("FinQueried", stream, {
        "query_id": query_id, "method": method, "outcome": answer_outcome,
        "latency_ms": latency_ms, "channel": channel, "asked_at": asked_at.isoformat()}))
    return query_id


def _json(value):
    return Jsonb({k: (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()})


class Throttle:
    """F-5: a token bucket per client, far above what a person can type (default 60
    queries a minute, bursts of 30). Exceeding it is answered with a short wait, never
    a lock-out: the bucket refills by itself."""

    def __init__(self, per_minute=60, burst=30, clients=100_000):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clients = clients
        self.buckets = {}
        self.lock = threading.Lock()

    def take(self, client, now=None):
        now = time.monotonic() if now is None else now
        with self.lock:
            tokens, seen = self.buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            if tokens < 1:
                self.buckets[client] = (tokens, now)
                return (1 - tokens) / self.rate
            if len(self.buckets) >= self.clients:
                self.buckets.clear()  # bounded memory; forgetting only ever lets people in
            self.buckets[client] = (tokens - 1, now)
            return 0.0


def throttled(wait):
    seconds = max(1, int(wait + 0.999))
    return TooManyRequests(Text(
        "slow_down", f"Çox sayda sorğu; {seconds} saniyə sonra yenidən cəhd edin.",
        f"Too many queries; please try again in {seconds} seconds."), retry_after=seconds)
