"""The registry's rules of seed 001, pure: given a person's (or a query's) events, when
a command, then these events or this refusal (issue 16)."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.registry import domain
from services.registry.events import CATALOG
from shared.vocabulary.errors import Conflict, NotFound, TooManyRequests

FIN = "5AB2C7D"
PERSON = {"fin": FIN, "name": "İlham", "surname": "Məmmədov", "patronymic": "Əli oğlu",
          "sex": "M", "birth_date": date(1985, 4, 17), "status": "citizen"}
CARD = {"series_number": "AZE10000001", "issued_on": date(2020, 1, 1),
        "expires_on": date(2030, 1, 1)}
AT = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=4)))


def given(*events):
    """The state folded from ``(type, data)`` pairs, as a stream would record them."""
    return domain.fold(events)


def registered():
    return domain.decide_register(domain.Person(), PERSON, CARD)


def valid_by_catalog(events):
    """Every decided event is valid data of its type (the store would refuse it)."""
    for event_type, data in events:
        CATALOG.normalized(event_type, data)


# --- a person and their ID cards --------------------------------------------------------

def test_f1_a_new_person_is_registered_with_their_first_card():
    events = registered()
    assert [t for t, _ in events] == ["PersonRegistered", "IdCardIssued"]
    assert events[0].data == {**PERSON, "birth_date": "1985-04-17"}
    assert events[1].data == {"fin": FIN, "series_number": "AZE10000001",
                            "issued_on": "2020-01-01", "expires_on": "2030-01-01"}
    valid_by_catalog(events)


def test_the_fold_knows_the_person_their_valid_cards_and_the_version():
    state = given(*registered())
    assert state == domain.Person(fin=FIN, registered=True,
                                  valid_cards=frozenset({"AZE10000001"}), version=2)
    state = given(*registered(), ("IdCardInvalidated", {
        "fin": FIN, "series_number": "AZE10000001", "status": "lost"}))
    assert state.valid_cards == frozenset() and state.version == 3


def test_a_fin_registered_already_is_refused():
    with pytest.raises(Conflict) as refused:
        domain.decide_register(given(*registered()), PERSON, CARD)
    assert refused.value.message.code == "fin_taken"


def test_f1_a_new_card_replaces_the_valid_ones_the_registry_holds():
    """Given a valid card on record for the FIN (e.g. from a bulk import: no event),
    when the person is registered with a new card, then the old one is replaced first."""
    held = [domain.Card("AZE20000002", FIN, "valid"), domain.Card("AZE20000003", FIN, "lost")]
    events = domain.decide_register(domain.Person(), PERSON, CARD, held)
    assert events[1] == ("IdCardInvalidated", {"fin": FIN, "series_number": "AZE20000002",
                                               "status": "replaced"})
    assert [t for t, _ in events] == ["PersonRegistered", "IdCardInvalidated", "IdCardIssued"]
    valid_by_catalog(events)


@pytest.mark.parametrize("status", ["replaced", "lost"])
def test_f1_a_valid_card_is_invalidated(status):
    state = given(*registered())
    events = domain.decide_invalidate(state, domain.Card("AZE10000001", FIN, "valid"), status)
    assert events == [("IdCardInvalidated", {"fin": FIN, "series_number": "AZE10000001",
                                             "status": status})]
    valid_by_catalog(events)


def test_f1_a_bulk_imported_card_is_invalidated_on_its_holders_empty_stream():
    events = domain.decide_invalidate(domain.Person(), domain.Card("AZE30000001", FIN, "valid"),
                                      "lost")
    assert [t for t, _ in events] == ["IdCardInvalidated"]


@pytest.mark.parametrize("card", [None, domain.Card("AZE10000001", FIN, "lost"),
                                  domain.Card("AZE10000001", FIN, "replaced")])
def test_f1_only_a_valid_card_can_be_invalidated(card):
    with pytest.raises(NotFound) as refused:
        domain.decide_invalidate(given(*registered()), card, "lost")
    assert refused.value.message.code == "no_valid_card"


# --- the lookups' refusals and audit ----------------------------------------------------

def test_f4_not_found_says_no_more_than_that_and_is_registered_all_the_same():
    audit = [("FinQueried", {})]
    with pytest.raises(domain.QueryNotFound) as raised:
        domain.decide_lookup(domain.Answer("not_found"), audit)
    refusal = raised.value
    assert isinstance(refusal, NotFound) and refusal.error == "not_found"
    # F-6: it carries its FinQueried, which commits before it is sent
    assert refusal.keeps_record and refusal.events == audit


def test_f2_more_than_one_person_asks_for_the_id_card():
    audit = [("FinQueried", {})]
    with pytest.raises(domain.QueryAmbiguous) as raised:
        domain.decide_lookup(domain.Answer("ambiguous"), audit)
    refusal = raised.value
    assert isinstance(refusal, Conflict) and refusal.error == "ambiguous"
    assert refusal.keeps_record and refusal.events == audit  # F-6: registered all the same
    assert domain.decide_lookup(domain.Answer("found", "5ZJBKQG"), audit) == audit


def test_f5_a_throttled_query_is_asked_to_wait_a_moment_and_registered():
    audit = [("FinQueried", {})]
    refusal = domain.throttled(2, audit)
    assert isinstance(refusal, TooManyRequests) and refusal.headers == {"Retry-After": "2"}
    assert refusal.error == "too_many_requests" and refusal.keeps_record
    assert refusal.events == audit
    invalid = domain.QueryInvalid([], events=audit)
    assert invalid.keeps_record and invalid.events == audit
    assert not domain.QueryInvalid([]).keeps_record  # nothing to keep, nothing kept


def test_f6_every_query_is_one_event_with_the_full_record():
    """When a query is answered, then one FinQueried carries what was asked (dates
    ISO), from where and what was answered; its public form carries none of it."""
    events = domain.decide_query(
        "6f1c1d5e-0000-4000-8000-000000000001", "name",
        {"name": "İlham", "birth_date": date(1985, 4, 17), "channel": "web"},
        "198.18.0.1", "web", "found", FIN, 12.5, AT)
    assert events == [("FinQueried", {
        "query_id": "6f1c1d5e-0000-4000-8000-000000000001", "method": "name",
        "outcome": "found", "latency_ms": 12.5, "channel": "web",
        "asked_at": AT.isoformat(),
        "asked": {"name": "İlham", "birth_date": "1985-04-17", "channel": "web"},
        "client": "198.18.0.1", "answered_fin": FIN})]
    data = CATALOG.normalized(*events[0])
    public = CATALOG.public_data("FinQueried", data)
    assert set(public) == {"query_id", "method", "outcome", "latency_ms", "channel",
                           "asked_at"}


def test_f6_an_invalid_query_is_registered_as_it_was_sent():
    asked, channel = domain.asked_as_given({"id_card": "AZE1", "channel": "kiosk",
                                            "nested": {"x": 1}, "n": 3})
    assert asked == {"id_card": "AZE1", "channel": "kiosk", "n": 3} and channel == "kiosk"
    assert domain.asked_as_given({"channel": "fax"})[1] == "api"
    assert domain.asked_as_given(["not", "an", "object"]) == ({}, "api")
