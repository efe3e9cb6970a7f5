"""Signed events (D-3, issue 14 §4), offline: a subscriber proves an event is ours
without trusting the broker or us. A genuine event verifies; one changed byte
of its data, an unknown or a revoked key fail; a retired key still verifies the events
it signed (rotation keeps old events verifiable). The command line tool reads one
event per line, as delivered."""
import io
import json

import pytest

from shared.runtime import signatures
from shared.ops import signing, verify
from shared.vocabulary.envelope import Envelope, new_id, utcnow


def _event(**data):
    return Envelope(id=new_id(), type="BookingConfirmed", source="/asan/booking",
                    subject="booking-1", time=utcnow(), schemaversion=1,
                    correlationid=new_id(), data=data or {"booking_id": "b-1", "n": 1.5})


def _signed(keys, event=None):
    return signatures.Signer(keys).sign_event((event or _event()).to_json().encode("utf-8"))


def test_a_genuine_event_verifies_and_one_changed_byte_fails():
    keys = {"keys": [signatures.new_key("booking")]}
    jwks = signatures.public_jwks(keys)
    signed = _signed(keys).decode()
    assert json.loads(signed)["signature"].count(".") == 2  # header..signature (detached)
    assert list(json.loads(signed))[-1] == "signature"
    assert signatures.verify_event(signed, jwks) == keys["keys"][0]["kid"]
    tampered = signed.replace('"n":1.5', '"n":1.6')
    with pytest.raises(signatures.InvalidSignature, match="does not match"):
        signatures.verify_event(tampered, jwks)
    with pytest.raises(signatures.InvalidSignature, match="no signature"):
        signatures.verify_event(_event().to_json(), jwks)


def test_unknown_and_revoked_keys_fail_and_a_retired_key_still_verifies():
    keys = {"keys": [signatures.new_key("booking")]}
    old = _signed(keys).decode()
    old_kid = keys["keys"][0]["kid"]
    signatures.rotate(keys, "booking")
    new = _signed(keys).decode()
    jwks = signatures.public_jwks(keys)
    assert signatures.verify_event(old, jwks) == old_kid  # retired: its events still verify
    assert signatures.verify_event(new, jwks) != old_kid
    signatures.revoke(keys, old_kid)
    with pytest.raises(signatures.InvalidSignature, match="unknown or revoked"):
        signatures.verify_event(old, signatures.public_jwks(keys))
    stranger = {"keys": [signatures.new_key("intruder")]}
    with pytest.raises(signatures.InvalidSignature, match="unknown or revoked"):
        signatures.verify_event(_signed(stranger).decode(), signatures.public_jwks(keys))
    assert all("d" not in jwk for jwk in signatures.public_jwks(keys)["keys"])  # no private part


def test_the_tool_reads_events_as_delivered_and_fails_on_any_bad_one(tmp_path):
    keys = {"keys": [signatures.new_key("booking")]}
    (tmp_path / "jwks.json").write_text(json.dumps(signatures.public_jwks(keys)))
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


def test_new_keys_sign_as_eddsa_with_an_ed25519_key_and_the_jwks_says_so():
    keys = {"keys": [signatures.new_key("booking")]}
    (jwk,) = signatures.public_jwks(keys)["keys"]
    assert {name: jwk[name] for name in ("kty", "crv", "alg", "use")} == \
        {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"}
    assert jwk["kid"].startswith("booking-")
    header = json.loads(signatures.base64.urlsafe_b64decode(
        json.loads(_signed(keys))["signature"].split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": jwk["kid"]}


def _old_key(service):
    """A key as made before keys signed as ``EdDSA``: RFC 9864's name ``Ed25519``."""
    return dict(signatures.new_key(service), alg="Ed25519")


def test_a_key_named_ed25519_signs_so_until_rotated_and_both_names_verify():
    keys = {"keys": [_old_key("booking")]}
    old = _signed(keys).decode()
    assert '"alg":"Ed25519"' in signatures.base64.urlsafe_b64decode(
        json.loads(old)["signature"].split(".")[0] + "==").decode()
    signatures.rotate(keys, "booking")
    new = _signed(keys).decode()
    jwks = signatures.public_jwks(keys)
    assert [jwk["alg"] for jwk in jwks["keys"]] == ["Ed25519", "EdDSA"]  # each its own name
    assert signatures.verify_event(old, jwks) == keys["keys"][0]["kid"]
    assert signatures.verify_event(new, jwks) == keys["keys"][1]["kid"]
    # A header naming another algorithm than its key's is refused, as Node's jose does.
    wrong = dict(jwks["keys"][0], alg="EdDSA")
    with pytest.raises(signatures.InvalidSignature, match="does not sign with 'Ed25519'"):
        signatures.verify_event(old, {"keys": [wrong]})
    header, _, signature = json.loads(new)["signature"].split(".")
    hs256 = signatures._b64(json.dumps({"alg": "HS256", "kid": keys["keys"][1]["kid"]}).encode())
    with pytest.raises(signatures.InvalidSignature, match="algorithm 'HS256'"):
        signatures.verify_event(new.replace(header, hs256), jwks)


def test_ensure_rotates_a_key_set_that_still_signs_as_ed25519(tmp_path, monkeypatch, capsys):
    path = tmp_path / "booking.json"
    monkeypatch.setattr(signing, "key_file", lambda service: path)
    assert signing.main(["ensure", "booking"]) == 0
    assert signatures.Signer(signatures.load_keys(path)).algorithm == "EdDSA"
    signatures.save_keys(path, {"keys": [_old_key("booking")]})
    assert signing.main(["ensure", "booking"]) == 0
    keys = signatures.load_keys(path)
    assert [(jwk["alg"], jwk["status"]) for jwk in keys["keys"]] == \
        [("Ed25519", "retired"), ("EdDSA", "active")]
    assert signing.main(["ensure", "booking"]) == 0  # once is enough
    assert len(signatures.load_keys(path)["keys"]) == 2


def test_an_event_signed_with_another_services_key_is_refused_whatever_the_key_set_holds(
        tmp_path):
    """Issue 23 §2: the kiosk gateway's key cannot vouch for an event that claims to be
    booking's, even when a subscriber keeps every service's keys in one key set."""
    booking = {"keys": [signatures.new_key("booking")]}
    kiosk = {"keys": [signatures.new_key("kiosk_gateway")]}
    both = {"keys": signatures.public_jwks(booking)["keys"] + signatures.public_jwks(kiosk)["keys"]}
    genuine = _signed(booking).decode()
    forged = _signed(kiosk).decode()  # source /asan/booking, signed by the kiosk gateway
    assert json.loads(forged)["source"] == "/asan/booking"
    assert signatures.verify_event(genuine, both) == booking["keys"][0]["kid"]
    with pytest.raises(signatures.InvalidSignature, match="kiosk_gateway's key .* 'booking'"):
        signatures.verify_event(forged, both)
    (tmp_path / "all.json").write_text(json.dumps(both))
    (tmp_path / "booking.json").write_text(json.dumps(signatures.public_jwks(booking)))
    (tmp_path / "kiosk.json").write_text(json.dumps(signatures.public_jwks(kiosk)))
    for files in (["all.json"], ["booking.json", "kiosk.json"]):
        out = io.StringIO()
        arguments = [item for name in files for item in ("--jwks", str(tmp_path / name))]
        assert verify.main(arguments + ["-"], stdin=io.StringIO(f"{genuine}\n{forged}\n"),
                           stdout=out) == 1
        assert out.getvalue().splitlines()[0].startswith("ok ")
        assert out.getvalue().splitlines()[1].startswith("FAILED line 2: signed with kiosk")


def test_a_relay_signs_only_with_its_own_services_key_and_a_jwks_lists_only_those():
    kiosk_key = signatures.new_key("kiosk_gateway")
    with pytest.raises(ValueError, match="not booking's"):
        signatures.Signer({"keys": [kiosk_key]}, "booking")
    assert signatures.Signer({"keys": [kiosk_key]}, "kiosk_gateway").kid == kiosk_key["kid"]
    mixed = {"keys": [signatures.new_key("booking"), dict(kiosk_key, status="retired")]}
    assert [jwk["kid"] for jwk in signatures.public_jwks(mixed, "booking")["keys"]] == \
        [mixed["keys"][0]["kid"]]
    with pytest.raises(ValueError, match="hyphen"):
        signatures.new_key("kiosk-gateway")
