"""``sequence`` as the CloudEvents Sequence extension defines it (issue 23 §3): a string
whose lexicographic order is the order of publication — 20 decimal digits with leading
zeros — written by the relay into the signed bytes, read by the CloudEvents Python SDK
as a string, and read (with its contract-1 form, a JSON integer) by our consumers and
the example subscriber, whose gap check holds across both (docs/EVENTS.md, "Contract
versions"). On the real broker: tests/integration/test_event_stream.py and
tests/integration/monitoring/test_public_event_contract.py."""
import json
import uuid

import pytest

from examples import catch_up_subscriber
from shared.runtime.config import service_config
from shared.vocabulary.envelope import format_sequence, sequence_number
from shared.runtime.relay import Relay
from shared.runtime.signatures import InvalidSignature, Signer, public_jwks, verify_event
from tests.demo import CATALOG, thing
from tests.event_contract import Contract, cloudevent
from tests.keys import key_set

PUBLIC, PRIVATE = "demo.events", "demo.private"


def test_as_strings_the_numbers_sort_as_numbers_do_at_every_digit_boundary():
    numbers = sorted({n + d for k in range(20) for n in (10 ** k,) for d in (-1, 0, 1)} - {0})
    strings = [format_sequence(n) for n in numbers]
    assert sorted(strings) == strings
    assert {len(s) for s in strings} == {20} and format_sequence(42) == "00000000000000000042"
    assert [sequence_number(s) for s in strings] == numbers
    assert [sequence_number(n) for n in numbers] == numbers  # contract 1
    assert format_sequence(42, "integer") == 42
    for wrong in (0, -1, 10 ** 20, True, 1.0, "42"):
        with pytest.raises(ValueError):
            format_sequence(wrong)
    for wrong in (0, "0" * 20, "42", " " + "1" * 19, "١" * 20, True, 1.5, None, "-" + "1" * 19):
        with pytest.raises(ValueError):
            sequence_number(wrong)
    with pytest.raises(ValueError):
        format_sequence(1, "hex")


def _relay(keys, **options):
    # Numbering and signing need no connection: the publisher connects on first use.
    # The shipped format unless the test names one.
    options = {"sequence_format": service_config("booking")["EVENT_SEQUENCE_FORMAT"]} | options
    return Relay("demo", "postgresql://unused", "amqp://unused", Signer(keys), **options)


def _rows(count, private_every=0):
    rows = []
    for n in range(count):
        exchange = PRIVATE if private_every and n % private_every == 0 else PUBLIC
        body = thing(CATALOG, uuid.uuid4().hex[:8]).to_json().encode()
        rows.append((n, str(uuid.uuid4()), exchange, "ThingHappened", body,
                     {"correlation_id": "c"}, str(n)))
    return rows


def test_the_relay_writes_the_string_into_the_signed_bytes_and_the_number_into_the_header():
    keys = key_set("demo")
    rows = _rows(13, private_every=5)
    numbered, public = _relay(keys)._number_and_sign(rows, last=7)
    assert public == 10
    published = [(json.loads(row[4]), row) for row in numbered if row[2] == PUBLIC]
    assert [event["sequence"] for event, _ in published] == \
        [format_sequence(n) for n in range(8, 18)]
    assert [row[5]["sequence"] for _, row in published] == list(range(8, 18))  # AMQP header
    assert all(b'"sequence"' not in row[4] for row in numbered if row[2] == PRIVATE)
    jwks = public_jwks(keys)
    for _, row in published:
        body = row[4]
        assert body.endswith(b'"}') and list(json.loads(body))[-2:] == ["sequence", "signature"]
        verify_event(body, jwks)
        other = body.replace(b'"sequence":"0000', b'"sequence":"0001', 1)
        with pytest.raises(InvalidSignature):  # the number is signed
            verify_event(other, jwks)
    # Deterministic: a batch published again after a crash is byte for byte the same.
    assert _relay(keys)._number_and_sign(rows, last=7) == (numbered, public)


def test_a_relay_kept_on_contract_1_writes_the_integer_and_refuses_an_unknown_format():
    keys = key_set("demo")
    numbered, _ = _relay(keys, sequence_format="integer")._number_and_sign(_rows(3), last=0)
    assert [json.loads(row[4])["sequence"] for row in numbered] == [1, 2, 3]
    for row in numbered:
        verify_event(row[4], public_jwks(keys))
    with pytest.raises(ValueError):
        _relay(keys, sequence_format="decimal")


def test_the_cloudevents_sdk_reads_the_string_and_sorting_by_it_gives_the_stream_order():
    """12 events across the 9 → 10 boundary, shuffled: the SDK's own attribute, compared
    as the extension says (as strings), puts them back in publication order — the
    integer of contract 1 put "10" before "9" in any tool that compares strings."""
    numbered, _ = _relay(key_set("demo"))._number_and_sign(_rows(12), last=0)
    events = [cloudevent(row[4], headers=row[5]) for row in numbered]
    assert all(isinstance(event.get_extension("sequence"), str) for event in events)
    shuffled = events[5:] + events[:5]
    assert [event.get_id() for event in sorted(shuffled, key=lambda e: e.get_extension(
        "sequence"))] == [json.loads(row[4])["id"] for row in numbered]
    assert [event.get_extension("sequence") for event in events][8:10] == \
        ["00000000000000000009", "00000000000000000010"]


def test_published_events_of_both_contracts_meet_the_envelope_schema():
    contract = Contract()
    for form in ("string", "integer"):
        numbered, _ = _relay(key_set("demo"), sequence_format=form)._number_and_sign(
            _rows(2), last=0)
        for row in numbered:
            event = dict(json.loads(row[4]), source="/asan/booking", type="OrderCodeReissued",
                         data={"booking_id": str(uuid.uuid4()),
                               "reissued_at": "2026-11-24T06:00:00+00:00"})
            assert contract.errors(event) == [], form
    event["sequence"] = "42"
    assert contract.errors(event)


def test_the_example_subscriber_reads_both_forms_and_still_finds_a_gap(monkeypatch):
    """Its gap check across a stream that holds contract-1 events, then contract-2 ones
    (a stand-in stream: the real one is in tests/integration/test_event_stream.py)."""
    def body(sequence):
        return json.dumps({"id": str(uuid.uuid4()), "sequence": sequence}).encode()

    stream = [body(1), body(2), body(2), body(format_sequence(3)), body(format_sequence(3)),
              body(format_sequence(4))]
    monkeypatch.setattr(catch_up_subscriber, "stream_events",
                        lambda uri, name, offset, **options: iter(enumerate(stream)))
    state = {}
    got = [event["sequence"] for event, _ in catch_up_subscriber.follow("amqp://", "s", state)]
    assert got == [1, 2, format_sequence(3), format_sequence(4)]  # copies skipped
    assert state == {"offset": 5, "sequence": 4}
    stream[:] = [body(format_sequence(5)), body(format_sequence(7))]
    with pytest.raises(RuntimeError, match="missing"):
        list(catch_up_subscriber.follow("amqp://", "s", {"sequence": 4}))
    for wrong in ("5", "0" * 20, 5.0, None, True):
        stream[:] = [body(wrong)]
        with pytest.raises(RuntimeError, match="no numbered event"):
            list(catch_up_subscriber.follow("amqp://", "s", {}))
