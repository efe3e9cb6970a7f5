"""Bearer tokens for staff and machine clients, kept as SHA-256 hashes in config.

A browser cannot send a bearer token by itself, so pages for staff (the monitoring
reports) also take the token as the password of HTTP Basic authentication."""
import base64
import binascii
import hashlib
import hmac

from ..vocabulary.errors import Text, Unauthorized

UNAUTHORIZED = Text("unauthorized", "Giriş icazəsi yoxdur: etibarlı açar təqdim edin.",
                    "Not authorized: present a valid token.")


def token_hash(token):
    """The SHA-256 hex digest of ``token`` (UTF-8), as configs keep tokens (``*_TOKEN_SHA256``)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(request):
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750), or ``None``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_allowed(token, allowed_hashes):
    """Whether ``token`` hashes to one of ``allowed_hashes`` (compared in constant time)."""
    if not token:
        return False
    presented = token_hash(token)
    return any(hmac.compare_digest(presented, str(allowed)) for allowed in allowed_hashes or ())


def basic_password(request):
    """The password of an ``Authorization: Basic`` header (RFC 7617), or ``None`` when absent or
    malformed: a browser's way to send a staff token."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def require_token(request, allowed_hashes, basic_realm=None):
    """The hash of the presented token, if it is one of ``allowed_hashes``; else 401.
    With ``basic_realm``, the token may also come as an HTTP Basic password."""
    token = bearer_token(request) or (basic_password(request) if basic_realm else None)
    if token_allowed(token, allowed_hashes):
        return token_hash(token)
    challenge = f'Bearer, Basic realm="{basic_realm}", charset="UTF-8"' if basic_realm else "Bearer"
    raise Unauthorized(UNAUTHORIZED, headers={"WWW-Authenticate": challenge})
