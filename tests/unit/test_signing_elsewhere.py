"""Our event signatures verify with the JOSE libraries a ministry already uses (D-3,
issue 23 §2), as docs/EVENTS.md shows them: PyJWT, jwcrypto, Node's ``jose`` and
``cryptography`` alone, over the bytes as delivered — each refusing a changed byte
and an event that another service's key signed. Why the header says ``EdDSA``: PyJWT
2.15 refuses RFC 9864's name ``Ed25519`` for the same signature, which the others
accept (events of keys that still sign under it). And why subscribers verify the
delivered bytes: what the CloudEvents SDK writes back verifies with no library.
The same verifiers on real events of the running platform:
tests/e2e/booking/test_signatures_elsewhere.py."""
import inspect
import json
import re

import jwt
import pytest
from cloudevents.core.formats.json import JSONFormat

from examples import verify_with_jose_libraries as example
from shared.runtime import signatures
from shared.vocabulary.envelope import Envelope, new_id, utcnow
from tests.verifiers import NODE_EXAMPLE, PYTHON_VERIFIERS, REPO, verify_with_node_jose

EVENTS_MD = (REPO / "docs" / "EVENTS.md").read_text("utf-8")


def _event(source="/asan/booking", **data):
    return Envelope(id=new_id(), type="BookingRequested", source=source,
                    subject="booking-1", time=utcnow(), schemaversion=1,
                    correlationid=new_id(), data=data or {"centre": "gəncə-1", "n": 1.5})


def _sign(keys, event=None):
    return signatures.Signer(keys).sign_event((event or _event()).to_json().encode("utf-8"))


@pytest.fixture(scope="module")
def keys():
    """Booking's key set (an old key, rotated: both names) and the kiosk gateway's."""
    booking = {"keys": [dict(signatures.new_key("booking"), alg="Ed25519")]}
    old = _sign(booking)
    signatures.rotate(booking, "booking")
    kiosk = {"keys": [signatures.new_key("kiosk_gateway")]}
    merged = {"keys": signatures.public_jwks(booking)["keys"]
              + signatures.public_jwks(kiosk)["keys"]}
    return booking, kiosk, merged, old


def _tampered(body):
    return body.replace(b'"n":1.5', b'"n":2.5')


@pytest.mark.parametrize("library", sorted(PYTHON_VERIFIERS))
def test_a_python_jose_library_verifies_our_events_and_refuses_forgeries(library, keys):
    booking, kiosk, merged, _ = keys
    verify = PYTHON_VERIFIERS[library]
    body = _sign(booking)
    unsigned = {name: value for name, value in json.loads(body).items() if name != "signature"}
    assert verify(body, merged) == unsigned  # the event, read from the verified bytes
    with pytest.raises(Exception) as changed:  # each library raises its own kind
        verify(_tampered(body), merged)
    assert "is not /asan/" not in str(changed.value)
    with pytest.raises(ValueError, match="is not /asan/booking's"):
        verify(_sign(kiosk), merged)  # claims booking, signed by the kiosk gateway


def test_node_jose_verifies_our_events_and_refuses_forgeries(keys, tmp_path):
    booking, kiosk, merged, old = keys
    body = _sign(booking)
    status, lines = verify_with_node_jose([body, old, _tampered(body), _sign(kiosk)],
                                          merged, tmp_path)
    assert status == 1
    assert lines[:2] == [f"ok {json.loads(body)['id']}", f"ok {json.loads(old)['id']}"]
    assert lines[2].startswith("FAILED line 3: ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
    assert lines[3] == f"FAILED line 4: Error: key {kiosk['keys'][0]['kid']} is not" \
                       " /asan/booking's"


def test_pyjwt_refuses_rfc_9864s_name_which_is_why_events_are_signed_as_eddsa(keys):
    """The evidence for ``EdDSA``: an event of a key that signs as ``Ed25519`` verifies in
    jwcrypto, ``cryptography`` and ours, but PyJWT 2.15 has no algorithm of that name
    (its documented way out: register one, for those old events only)."""
    booking, _, merged, old = keys
    header = json.loads(old)["signature"].split(".")[0]
    assert json.loads(signatures.base64.urlsafe_b64decode(header + "=="))["alg"] == "Ed25519"
    for library in ("jwcrypto", "cryptography"):
        assert PYTHON_VERIFIERS[library](old, merged)["id"] == json.loads(old)["id"]
    signatures.verify_event(old, merged)
    with pytest.raises(KeyError, match="no key for kid"):  # PyJWKSet drops the key unread
        example.verify_with_pyjwt(old, merged)
    _, token = example.signed_parts(old)
    pyjws = jwt.PyJWS()
    pyjws.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())
    old_key = jwt.algorithms.OKPAlgorithm.from_jwk(json.dumps(merged["keys"][0]))
    assert pyjws.decode(token, old_key, algorithms=["Ed25519"]) == \
        example.signed_parts(old)[0]


def test_what_the_cloudevents_sdk_writes_back_verifies_nowhere_so_verify_the_delivered_bytes(
        keys, tmp_path):
    booking, _, merged, _ = keys
    body = _sign(booking)
    event = example.read_with_cloudevents_sdk(body, merged)  # verified first, then read
    assert event.get_attributes()["signature"] == json.loads(body)["signature"]
    written = JSONFormat().write(event)
    # Even with the signature put back last and no spaces, its members are in another
    # order and its time ends in Z instead of +00:00: other bytes.
    rewritten = json.loads(written)
    signature = rewritten.pop("signature")
    compact = (json.dumps(rewritten, ensure_ascii=False, separators=(",", ":"))[:-1]
               + f',"signature":"{signature}"}}').encode("utf-8")
    assert json.loads(body)["time"].endswith("+00:00") and rewritten["time"].endswith("Z")
    for bytes_ in (written, compact):
        assert bytes_ != body
        with pytest.raises(signatures.InvalidSignature):
            signatures.verify_event(bytes_, merged)
        for verify in PYTHON_VERIFIERS.values():
            with pytest.raises(Exception):
                verify(bytes_, merged)
    status, lines = verify_with_node_jose([compact], merged, tmp_path)
    assert status == 1 and lines[0].startswith("FAILED line 1: ERR_JWS_SIGNATURE")


def test_events_md_shows_the_code_the_tests_run():
    """docs/EVENTS.md's snippets are the examples' code, line for line."""
    for function in (example.signed_parts, example.producer_checked, example.verify_with_pyjwt,
                     example.verify_with_jwcrypto, example.verify_with_cryptography):
        assert inspect.getsource(function) in EVENTS_MD, function.__name__
    node = NODE_EXAMPLE.read_text("utf-8")
    verify_event = re.search(r"export async function verifyEvent.*?\n}\n", node, re.S).group()
    assert verify_event in EVENTS_MD
