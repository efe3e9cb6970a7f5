"""CSRF protection and the headers every page carries; pure, no I/O.

A visitor gets a random session id in an HttpOnly, SameSite=Lax cookie. The CSRF token
put in each form is an HMAC of that id with ``WEB_CSRF_SECRET``: a page of another
site can neither read the cookie nor compute the token, so a forged POST is refused.
``seal``/``unseal`` carry small values between two pages of a flow (in a hidden field,
never in the URL) so that they cannot be altered on the way.
"""
import base64
import hashlib
import hmac
import json
import secrets

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
