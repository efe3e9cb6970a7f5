"""CSRF protection and the headers every page carries; pure, no I/O.

A visitor gets a random session id in an HttpOnly, SameSite=Lax cookie. The CSRF token
put in each form is an HMAC of that id with ``WEB_CSRF_SECRET``: a page of another
site can neither read the cookie nor compute the token, so a forged POST is refused.
``seal``/``unseal`` carry small values between two pages of a flow (in a hidden field,
never in the URL) so that they cannot be altered on the way. ``hide``/``unhide`` do the
same for a secret the page must not show — an order code between the two steps of a
move (issue 17 §5): encrypted (AES-GCM), bound to the visitor's session, for a while.
"""
import base64
import hashlib
import hmac
import json
import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SESSION_COOKIE = "asan_session"
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf_token"

CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Every page may show what the person typed (names, ID card, FIN): never cached.
    "Cache-Control": "no-store",
}


def new_session_id():
    """A new random session id (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def _mac(secret, purpose, value):
    key = secret.encode("utf-8")
    return hmac.new(key, f"{purpose}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_token(secret, session_id):
    """The CSRF token of ``session_id``: an HMAC with the pages' secret, so no server state
    is kept."""
    return _mac(secret, "csrf", session_id)


def csrf_valid(secret, session_id, token):
    """True only for the token of this very session."""
    if not session_id or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, session_id), str(token))


def seal(secret, data):
    """``data`` (JSON-able) as a tamper-proof string: base64 JSON and its HMAC."""
    body = base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False, sort_keys=True)
                                    .encode("utf-8")).decode("ascii")
    return f"{body}.{_mac(secret, 'seal', body)}"


def unseal(secret, sealed):
    """The data sealed by :func:`seal`, or None if it was altered or is not one."""
    body, _, mac = str(sealed or "").partition(".")
    if not body or not hmac.compare_digest(_mac(secret, "seal", body), mac):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body.encode("ascii")).decode("utf-8"))
    except ValueError:
        return None


def _key(secret, purpose):
    """A 256-bit AES key of its own for ``purpose``, derived from the pages' secret."""
    return hmac.new(secret.encode("utf-8"), f"key:{purpose}".encode("utf-8"),
                    hashlib.sha256).digest()


def hide(secret, session_id, data, ttl_seconds, now=None):
    """``data`` (JSON-able) as an opaque string for a hidden field: encrypted and
    authenticated (AES-GCM, a random nonce), readable by :func:`unhide` only with the
    same ``session_id`` and within ``ttl_seconds`` of ``now`` (Unix seconds; the
    machine's clock by default: a form's age, not a business day). A copied page
    neither shows the secret nor works in another browser."""
    nonce = secrets.token_bytes(12)
    expires = int((time.time() if now is None else now) + ttl_seconds)
    plain = json.dumps({"d": data, "x": expires}, ensure_ascii=False).encode("utf-8")
    sealed = AESGCM(_key(secret, "hide")).encrypt(nonce, plain, session_id.encode("utf-8"))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unhide(secret, session_id, hidden, now=None):
    """The data hidden by :func:`hide` for this ``session_id``, or None when it was
    altered, is another session's, has expired or is not one at all."""
    try:
        raw = base64.urlsafe_b64decode(str(hidden or "").encode("ascii"))
        if len(raw) < 12 + 16 or not session_id:
            return None
        plain = AESGCM(_key(secret, "hide")).decrypt(raw[:12], raw[12:],
                                                     session_id.encode("utf-8"))
        content = json.loads(plain.decode("utf-8"))
    except (InvalidTag, ValueError, UnicodeError):
        return None
    if not isinstance(content, dict) or not isinstance(content.get("x"), int):
        return None
    if (time.time() if now is None else now) > content["x"]:
        return None
    return content.get("d")
