"""The registry's use cases: the two lookups, audited (F-1, F-2, F-6), and the staff's
changes to the registry. Each one: load (the read model, the person's stream under
its lock) → decide (``domain``) → append with the expected version; the tables are
written by the projection (``read_model.apply``) when the unit of work flushes."""
import time
import uuid

from shared.runtime.eventstore import NO_STREAM

from . import domain, read_model


def find(uow, method, query, client, today, asked_at, started):
    """Look up (``method`` id_card | name, ``query`` as ``schemas`` loaded it) and
    audit (F-6). Returns the ``domain.Answer`` when found; otherwise raises its
    refusal (F-4), which carries the audit: it commits all the same
    (``UnitOfWork.decide``, ``ServiceDatabase.run``)."""
    if method == "id_card":
        answer = read_model.by_id_card(uow.conn, query["id_card"], today)
    else:
        answer = read_model.by_name(uow.conn, query["name"], query["surname"],
                                    query["patronymic"], query["birth_date"])
    audit(uow, method, query, client, query.get("channel", "api"), answer.outcome,
          answer.fin, started, asked_at, lambda events: domain.decide_lookup(answer, events))
    return answer


def refuse(uow, method, raw, client, outcome, asked_at, started, make_refusal):
    """Invalid (``raw``: the body as sent) or throttled queries are registered too
    (F-6): ``make_refusal(events)`` (``domain.throttled``, ``domain.QueryInvalid``)
    raised carrying the query's audit."""
    asked, channel = domain.asked_as_given(raw)
    audit(uow, method, asked, client, channel, outcome, None, started, asked_at,
          lambda events: domain.refused(make_refusal, events))


def audit(uow, method, asked, client, channel, outcome, fin, started, asked_at, decision):
    """F-6: every query registered, durably, in the transaction that answers it: one
    ``FinQueried`` (``domain.decide_query``) on a stream of its own,
    ``finquery-<query_id>``, appended at version 1; its projection is the full record
    in ``fin_queries``. ``decision(events)``: the domain's decision on the query given
    those events — returns them, or raises a refusal carrying them — recorded by
    ``uow.decide`` (the one way a "no" keeps its record). ``started``:
    ``time.perf_counter()`` at the query's arrival.

    A stream per query, not one per day: a shared stream's next version is a point every
    lookup of the day must pass one at a time (each reads ``max(version)`` and the next
    one's insert conflicts until it commits), so lookups would be as fast as one
    connection. A new stream never has a competing writer, and the event stays in the
    registry's log, where the monitoring rebuild reads it (``read_all``) like any other.
    (bench.stack's bench-only ``unaudited`` replaces this function: the one audit path.)
    """
    query_id = str(uuid.uuid4())
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    events = domain.decide_query(query_id, method, asked, client, channel, outcome, fin,
                                 latency_ms, asked_at)
    uow.decide(f"finquery-{query_id}", NO_STREAM, lambda: decision(events))


def register_person(uow, person, card):
    """A new person (``schemas.PersonBody`` without its card) with a first ID card
    (``card["series_number"]`` canonical, ``shared.vocabulary.fields.IdCard``): registry staff."""
    fin = person["fin"]
    stream = f"person-{fin}"
    state = uow.load(stream, domain.fold)
    events = domain.decide_register(state, person, card, read_model.valid_cards(uow.conn, fin))
    uow.record(stream, state.version, events)


def invalidate_card(uow, series_number, status):
    """An ID card (canonical ``series_number``) ``replaced`` or ``lost``: registry staff.
    The card is read again once its holder's stream is locked: two staff invalidating
    one card take turns, and the second finds it no longer valid (404)."""
    held = read_model.card(uow.conn, series_number)
    state, stream = domain.Person(), None
    if held is not None:
        stream = f"person-{held.fin}"
        state = uow.load(stream, domain.fold)
        held = read_model.card(uow.conn, series_number)  # as it is once the stream is ours
    events = domain.decide_invalidate(state, held, status)  # no card: refused, no append
    uow.record(stream, state.version, events)
