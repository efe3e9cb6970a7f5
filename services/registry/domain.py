"""The rules of the FIN registry (seed 001), pure: no database, no broker, no clock
of its own. A unit test reads "given these events, when this command, then these
events (or this refusal)".

Two kinds of aggregate:

* a person, stream ``person-<fin>``: :class:`Person` is the fold (:func:`evolve`) of
  ``PersonRegistered``, ``IdCardIssued`` and ``IdCardInvalidated``; the staff's
  commands are :func:`decide_register` and :func:`decide_invalidate`. People of a
  bulk import (``PopulationImported``) have no events of their own, so the cards a
  command acts on are passed in as the registry holds them (:class:`Card`, read by
  the handler under the person's stream lock), not taken from the fold alone;
* a query, stream ``finquery-<query_id>``: every lookup, answered or refused, is
  registered (F-6) by :func:`decide_query`, one ``FinQueried`` on a stream of its own.

What the lookups answer (F-1, F-2) is read from the read model (``read_model.py``);
how an answer is refused is :func:`refusal` (F-4), a throttled query :func:`throttled`
(F-5).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from shared.vocabulary.decider import folder
from shared.vocabulary.errors import (Conflict, NotFound, Reason, Text, TooManyRequests,
                                      ValidationFailed, slow_down)

from .events import CATALOG, FinQueried, IdCardInvalidated, IdCardIssued, PersonRegistered

CHANNELS = ("web", "api", "kiosk", "call_centre")

FIN_TAKEN = Text("fin_taken", "Bu FİN artıq var.", "This FIN already exists.")
CARD_TAKEN = Text("card_taken", "Bu seriya və nömrə ilə vəsiqə artıq verilib.",
                  "An ID card with this series and number has been issued already.")
NO_VALID_CARD = Text("no_valid_card", "Belə etibarlı vəsiqə yoxdur.", "No such valid ID card.")
NOT_FOUND = Text(
    "not_found", "Daxil edilən məlumatlara uyğun şəxs tapılmadı. Məlumatları yoxlayıb yenidən"
    " cəhd edin.", "No person matches the data entered. Check the data and try again.")
AMBIGUOUS = Text(
    "ambiguous", "Bu məlumatlara bir neçə şəxs uyğundur; şəxsiyyət vəsiqəsi ilə axtarın.",
    "More than one person matches; please search by ID card.")


# --- a person and their ID cards -----------------------------------------------------

@dataclass(frozen=True)
class Person:
    """The fold of a ``person-<fin>`` stream. ``valid_cards``: the card numbers issued
    on the stream and not invalidated since; ``version``: the stream's last version
    (the expected version of the next append)."""
    fin: str | None = None
    registered: bool = False
    valid_cards: frozenset = frozenset()
    version: int = 0


@dataclass(frozen=True)
class Card:
    """An ID card as the registry holds it (a bulk-imported one has no event)."""
    series_number: str
    fin: str
    status: str  # valid | replaced | lost


def evolve(state, event):
    """``state`` after one (typed) event of its stream."""
    state = replace(state, version=state.version + 1)
    match event:
        case PersonRegistered():
            return replace(state, fin=event.fin, registered=True)
        case IdCardIssued():
            return replace(state, fin=event.fin,
                           valid_cards=state.valid_cards | {event.series_number})
        case IdCardInvalidated():
            return replace(state, valid_cards=state.valid_cards - {event.series_number})
    return state


# The :class:`Person` of a stream's events, in order.
fold = folder(Person(), evolve, CATALOG)


def fin_taken():
    """409: the FIN is held already."""
    return Conflict(FIN_TAKEN)


def card_taken():
    """409: the card number is held already (named as the card's field)."""
    return Conflict(CARD_TAKEN, [Reason("card.series_number", CARD_TAKEN.code, CARD_TAKEN.az,
                                        CARD_TAKEN.en)])


def decide_register(state, person, card, valid_cards=()):
    """Registry staff: a new person (``person``: fin, name, surname, patronymic, sex,
    ``birth_date`` a date, status) with a first ID card (``card``: canonical
    ``series_number``, ``issued_on``, ``expires_on`` dates). ``valid_cards``: the
    :class:`Card` s the registry already holds as valid for that FIN (normally none);
    the new card replaces them, as a new card always does.

    Refuses ``fin_taken`` (409) when the stream has registered the person already. That
    a FIN or a card number is not held by anyone else, bulk-imported people included,
    needs the whole registry: the projection refuses it (``read_model.apply``)."""
    if state.registered:
        raise fin_taken()
    fin = person["fin"]
    events = [PersonRegistered(**{**person, "birth_date": person["birth_date"].isoformat()})]
    events += [IdCardInvalidated(fin=fin, series_number=old.series_number, status="replaced")
               for old in valid_cards if old.status == "valid"]
    events.append(IdCardIssued(
        fin=fin, series_number=card["series_number"],
        issued_on=card["issued_on"].isoformat(), expires_on=card["expires_on"].isoformat()))
    return events


def decide_invalidate(state, card, status):
    """Registry staff: an ID card ``replaced`` or ``lost`` (``status``). ``card``: the
    :class:`Card` as the registry holds it, or ``None``. Only a valid card can be
    invalidated: otherwise ``no_valid_card`` (404)."""
    if card is None or card.status != "valid":
        raise NotFound(NO_VALID_CARD)
    return [IdCardInvalidated(fin=card.fin, series_number=card.series_number, status=status)]


# --- the lookups (F-1, F-2), their refusals (F-4, F-5) and their audit (F-6) ----------

@dataclass(frozen=True)
class Answer:
    """What a lookup found: ``outcome`` found | not_found | ambiguous, and the FIN
    when found."""
    outcome: str
    fin: str | None = None


class QueryNotFound(NotFound):
    """F-4: no person matches (one message whichever field was wrong). Registered all
    the same (F-6): it carries the query's ``FinQueried``, committed before it is sent."""


class QueryAmbiguous(Conflict):
    """F-2: more than one person matches; search by ID card. Registered (F-6)."""


class QueryInvalid(ValidationFailed):
    """A query that is not one (every wrong field named). Registered (F-6)."""


class QueryThrottled(TooManyRequests):
    """F-5: wait a moment. Registered (F-6)."""


def decide_lookup(answer, events):
    """F-1, F-2, F-4, F-6: a lookup's ``answer`` with its audit ``events`` (the query's
    ``FinQueried``, :func:`decide_query`): the events when found; otherwise the
    answer's refusal (:func:`refusal`) raised carrying them — registered all the same."""
    if answer.outcome == "found":
        return events
    raise refusal(answer, events)


def refusal(answer, events=()):
    """F-4: the refusal of an answer that is not ``found``: one message whichever
    field was wrong; ``ambiguous`` (409) asks for the ID card instead. ``events``: the
    query's audit, which the refusal keeps."""
    if answer.outcome == "ambiguous":
        return QueryAmbiguous(AMBIGUOUS, error="ambiguous", events=events)
    return QueryNotFound(NOT_FOUND, error="not_found", events=events)


def throttled(wait, events=()):
    """F-5: a short wait (``wait`` seconds), never a lock-out (the shared limiter,
    ``fin_lookup``). ``events``: the query's audit, which the refusal keeps."""
    refused = slow_down("fin_lookup", wait,
                        az="Çox sayda sorğu; {wait} sonra yenidən cəhd edin.",
                        en="Too many queries; please try again in {wait}.")
    return QueryThrottled(refused.message, refused.retry_after, refused.reasons, refused.limit,
                          events=events)


def refused(make_refusal, events):
    """F-6: an invalid or throttled query, registered: raises ``make_refusal(events)``
    (:func:`throttled`, :class:`QueryInvalid`), carrying the query's audit."""
    raise make_refusal(events)


def asked_as_given(raw):
    """What an invalid or throttled query asked, for its audit (F-6): the scalar values
    of the body as sent, and its channel when it is a known one (else ``api``).
    Returns ``(asked, channel)``."""
    raw = raw if isinstance(raw, dict) else {}
    channel = raw.get("channel") if raw.get("channel") in CHANNELS else "api"
    return {k: v for k, v in raw.items() if isinstance(v, (str, int, float))}, channel


def decide_query(query_id, method, asked, client, channel, outcome, fin, latency_ms, asked_at):
    """F-6: every query registered: one ``FinQueried`` on the query's own stream. Its
    public form carries no personal data (``events.FinQueriedPublic``); ``asked``
    (dates written ISO), ``client`` and ``answered_fin`` stay in the registry's log,
    whose projection is the full record in ``fin_queries``. ``latency_ms``: from the
    query's arrival to its answer; ``asked_at``: an aware datetime."""
    return [FinQueried(
        query_id=str(query_id), method=method, outcome=outcome,
        latency_ms=latency_ms, channel=channel, asked_at=asked_at.isoformat(),
        asked={k: (v.isoformat() if isinstance(v, date) else v) for k, v in asked.items()},
        client=client, answered_fin=fin)]
