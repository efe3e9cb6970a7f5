"""Bearer tokens for staff and machine clients, kept as SHA-256 hashes in config."""
import hashlib
import hmac

from .errors import Text, Unauthorized

UNAUTHORIZED = Text("unauthorized", "Giriş icazəsi yoxdur: etibarlı açar təqdim edin.",
                    "Not authorized: present a valid token.")


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_token(request, allowed_hashes):
    """The hash of the presented token, if it is one of ``allowed_hashes``; else 401."""
    token = bearer_token(request)
    if token:
        presented = token_hash(token)
        for allowed in allowed_hashes or ():
            if hmac.compare_digest(presented, str(allowed)):
                return presented
    raise Unauthorized(UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
