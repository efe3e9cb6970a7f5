"""Signed events (D-3, issue 14 §4), offline: a subscriber proves an event is ours
without trusting the broker or us. A genuine event verifies; one changed byte
of its data, an unknown or a revoked key fail; a retired key still verifies the events
it signed (rotation keeps old events verifiable). The command line tool reads one
event per line, as delivered."""
import io
import json

import pytest

from shared import signing, verify
from shared.envelope import Envelope, new_id, utcnow


def _event(**data):
    return Envelope(id=new_id(), type="BookingConfirmed", source="/asan/booking",
                    subject="booking-1", time=utcnow(), schemaversion=1,
                    correlationid=new_id(), data=data or {"booking_id": "b-1", "n": 1.5})


def _signed(keys, event=None):
    return signing.Signer(keys).sign_event((event or _event()).to_json().encode("utf-8"))


def test_a_genuine_event_verifies_and_one_changed_byte_fails():
    keys = {"keys": [signing.new_key("booking")]}
    jwks = signing.public_jwks(keys)
    signed = _signed(keys).decode()
    assert json.loads(signed)["signature"].count(".") == 2  # header..signature (detached)
    assert list(json.loads(signed))[-1] == "signature"
    assert signing.verify_event(signed, jwks) == keys["keys"][0]["kid"]
    tampered = signed.replace('"n":1.5', '"n":1.6')
    with pytest.raises(signing.InvalidSignature, match="does not match"):
        signing.verify_event(tampered, jwks)
    with pytest.raises(signing.InvalidSignature, match="no signature"):
        signing.verify_event(_event().to_json(), jwks)


def test_unknown_and_revoked_keys_fail_and_a_retired_key_still_verifies():
    keys = {"keys": [signing.new_key("booking")]}
    old = _signed(keys).decode()
    old_kid = keys["keys"][0]["kid"]
    signing.rotate(keys, "booking")
    new = _signed(keys).decode()
    jwks = signing.public_jwks(keys)
    assert signing.verify_event(old, jwks) == old_kid  # retired: its events still verify
    assert signing.verify_event(new, jwks) != old_kid
    signing.revoke(keys, old_kid)
    with pytest.raises(signing.InvalidSignature, match="unknown or revoked"):
        signing.verify_event(old, signing.public_jwks(keys))
    stranger = {"keys": [signing.new_key("intruder")]}
    with pytest.raises(signing.InvalidSignature, match="unknown or revoked"):
        signing.verify_event(_signed(stranger).decode(), signing.public_jwks(keys))
    assert all("d" not in jwk for jwk in signing.public_jwks(keys)["keys"])  # no private part


def test_the_tool_reads_events_as_delivered_and_fails_on_any_bad_one(tmp_path):
    keys = {"keys": [signing.new_key("booking")]}
    (tmp_path / "jwks.json").write_text(json.dumps(signing.public_jwks(keys)))
    good = [_signed(keys).decode() for _ in range(3)]
    out = io.StringIO()
    assert verify.main(["--jwks", str(tmp_path / "jwks.json"), "-"],
                       stdin=io.StringIO("\n".join(good) + "\n"), stdout=out) == 0
    assert out.getvalue().count("ok ") == 3
    bad = good[:1] + [good[1].replace('"b-1"', '"b-2"')] + good[2:]
    out = io.StringIO()
    assert verify.main(["--jwks", str(tmp_path / "jwks.json"), "-"],
                       stdin=io.StringIO("\n".join(bad)), stdout=out) == 1
    assert "FAILED line 2" in out.getvalue()
