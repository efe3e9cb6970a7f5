"""The registry's read models — ``persons`` and ``id_documents`` (the electronic table
the lookups read, F-1/F-2) and ``fin_queries`` (the audit of every query, F-6) —
written only here, as projections of the registry's own events (D-1, issue 16), and
the queries that read them. The write path (``shared.runtime.eventstore.UnitOfWork.flush``)
calls :func:`apply` in the transaction that appends each event; ``python -m
shared.ops.rebuild registry --check`` replays the log through :func:`rebuild` and
compares.

Uniqueness across the whole registry is an invariant of the projection: a
``PersonRegistered`` whose FIN, or an ``IdCardIssued`` whose card number, is held
already (by a registered or a bulk-imported person) raises the 409 ``fin_taken`` /
``card_taken`` refusal, which rolls the whole command back: the primary keys decide,
one statement each, with no read before.

The bulk import counts as one event plus its source. ``services/registry/loader.py``
COPYs millions of synthetic people without an event each and records one
``PopulationImported`` (people, documents, seed, as_of) in the same transaction; the
source is the deterministic generator ``services/registry/population.py``. Its
:func:`apply` writes nothing (the loader's COPY has, in that transaction);
:func:`rebuild` replays the log in the store's order and, at each
``PopulationImported``, empties ``persons`` and ``id_documents`` (as the loader does)
and regenerates the population from its seed, count and day with the very function
the loader COPYs with (``loader.copy_population``), then goes on with the events after
it. So ``--check`` compares the imported rows too: a generator changed since the
import, or a row changed by hand, shows as a difference. An import without ``as_of``
(recorded before it was kept) is regenerated as of the Baku day of its event.
Limits: a staff command that had its transaction id before a concurrent import began
but committed after it is replayed before the import (the store's order) and so
erased by it, though the live row survived: do not register people while loading.

Rows no event fully carries, kept as they are:

* ``fin_queries`` rows of ``FinQueried`` events written before the event carried
  ``asked``, ``client`` and ``answered_fin`` (issue 16): the rebuild copies them from
  the live table (the audit must not be lost by an ``--apply``); with no live row, the
  row is rebuilt from the event with ``asked`` ``{}``, ``client`` ``unknown``.
* rows that migrations 0403/0404 rewrote (name keys, card numbers in other digits):
  the projection computes the same forms (``names.name_key``, ``canonical_id_card``),
  except for the card left as typed by 0404 because its canonical number was taken.
"""
from datetime import date

from psycopg.types.json import Jsonb

from shared.vocabulary.clock import baku_today
from shared.runtime.eventstore import EventStore
from shared.vocabulary.identity import canonical_id_card

from . import domain, names
from .events import CATALOG, FinQueried, IdCardInvalidated, IdCardIssued, PersonRegistered
from .schema import LENIENT_KEY

TABLES = ("persons", "id_documents", "fin_queries")
# What a difference found by shared.ops.rebuild may print: never a FIN, name, birth date,
# card number, query or address.
CHECK_SHOWN = {"persons": ("sex", "status"),
               "id_documents": ("status", "issued_on", "expires_on"),
               "fin_queries": ("query_id", "method", "channel", "outcome")}
REBUILD_BATCH = 5000


def apply(conn, recorded):
    """Write the change ``recorded`` (a ``RecordedEvent`` of the registry) makes.

    Raises ``Conflict(fin_taken)`` / ``Conflict(card_taken)`` when the FIN or the card
    number is held already. Deterministic: every value comes from the event."""
    event = CATALOG.read(recorded.type, recorded.data)
    if isinstance(event, PersonRegistered):
        born = date.fromisoformat(event.birth_date)
        key = names.name_key(event.name, event.surname, event.patronymic, born)
        if not conn.execute(
                "INSERT INTO persons (fin, name, surname, patronymic, sex, birth_date, status,"
                " name_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (event.fin, event.name, event.surname, event.patronymic, event.sex,
                 born, event.status, key)).rowcount:
            raise domain.fin_taken()
    elif isinstance(event, IdCardIssued):
        if not conn.execute(
                "INSERT INTO id_documents (series_number, fin, issued_on, expires_on, status)"
                " VALUES (%s, %s, %s, %s, 'valid') ON CONFLICT DO NOTHING",
                (_canonical(event.series_number), event.fin, event.issued_on,
                 event.expires_on)).rowcount:
            raise domain.card_taken()
    elif isinstance(event, IdCardInvalidated):
        conn.execute("UPDATE id_documents SET status = %s WHERE series_number = %s",
                     (event.status, _canonical(event.series_number)))
    elif isinstance(event, FinQueried):
        _audit_row(conn, event)
    # PopulationImported: the loader has COPYed the rows in its transaction (rebuild).


def _canonical(series_number):
    # Events keep what was typed before issue 12; the table has the canonical number
    # (as migration 0404 made of older rows).
    return canonical_id_card(series_number) or series_number


def _audit_row(conn, event):
    """F-6: the full record of one query (a typed ``FinQueried``)."""
    if event.asked is None and conn.execute(  # written before the event carried it
            "INSERT INTO fin_queries SELECT * FROM public.fin_queries WHERE query_id = %s",
            (event.query_id,)).rowcount:
        return
    conn.execute(
        "INSERT INTO fin_queries (query_id, asked_at, method, asked, client, channel, outcome,"
        " answered_fin, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (event.query_id, event.asked_at, event.method, Jsonb(event.asked or {}),
         event.client or "unknown", event.channel, event.outcome,
         event.answered_fin, event.latency_ms))


def rebuild(conn, config):
    """Replay the registry's log visible in ``conn``'s snapshot onto the tables
    ``search_path`` finds first (``shared.ops.rebuild``'s scratch copies): each
    ``PopulationImported`` regenerated from its source (see the module), every other
    event through :func:`apply`."""
    from .loader import SilentReport, copy_population  # the loader's COPY, not a copy of it

    for rows in EventStore(CATALOG).batches(conn, REBUILD_BATCH, visible=True):
        for event in rows:
            if event.type == "PopulationImported":
                imported = CATALOG.read(event.type, event.data)
                as_of = (date.fromisoformat(imported.as_of) if imported.as_of
                         else baku_today(event.envelope.time))
                conn.execute("TRUNCATE persons, id_documents")
                copy_population(conn, imported.people, imported.seed, SilentReport(), as_of)
            else:
                apply(conn, event)


# --- queries -----------------------------------------------------------------------

def by_id_card(conn, id_card, today):
    """F-1: only a valid, unexpired card answers (``today``: the Baku day). ``id_card``
    is canonical (``shared.vocabulary.fields.IdCard``), as the cards are stored. A
    ``domain.Answer``."""
    row = conn.execute("SELECT fin FROM id_documents WHERE series_number = %s"
                       " AND status = 'valid' AND expires_on >= %s",
                       (id_card, today)).fetchone()
    return domain.Answer("found", row[0].strip()) if row else domain.Answer("not_found")


def by_name(conn, name, surname, patronymic, birth_date):
    """F-2: an exact match on the folded key, with İ, I, ı and i as one letter
    (``names.lenient_key``): "IBRAHIMOVA" finds İbrahimova. Found only when that
    names one person; two or more → ambiguous, never a FIN that is not certain."""
    rows = conn.execute(f"SELECT fin FROM persons WHERE {LENIENT_KEY} = %s LIMIT 2",
                        (names.lenient_key(name, surname, patronymic, birth_date),)).fetchall()
    if len(rows) == 1:
        return domain.Answer("found", rows[0][0].strip())
    return domain.Answer("ambiguous" if rows else "not_found")


def card(conn, series_number):
    """The ``domain.Card`` numbered ``series_number`` (canonical), or ``None``."""
    row = conn.execute("SELECT series_number, fin, status FROM id_documents"
                       " WHERE series_number = %s", (series_number,)).fetchone()
    return domain.Card(row[0], row[1].strip(), row[2]) if row else None


def valid_cards(conn, fin):
    """The ``domain.Card`` s held as valid for ``fin``."""
    return [domain.Card(number, holder.strip(), status) for number, holder, status in
            conn.execute("SELECT series_number, fin, status FROM id_documents"
                         " WHERE fin = %s AND status = 'valid' ORDER BY series_number",
                         (fin,)).fetchall()]
