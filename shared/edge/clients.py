"""Who is asking: the client a rate limit counts (issue 12, F-5) and an audit names
(F-6), decided the same way by every service.

* A caller is its network address: the peer's, or, behind ``PROXY_HOPS`` reverse
  proxies of ours (``deploy/nginx/asan.conf``), the entry the nearest of them
  appended to ``X-Forwarded-For`` — never one the client wrote itself. Without it,
  every citizen behind the proxy would be one client.
* The citizen pages (``services/web``) call the services server-side for many
  citizens from one address, so they forward each citizen's address in
  ``X-Asan-Client-Address``. It is believed only with the pages' own token
  (``FRONTEND_TOKEN_SHA256``): anyone else could put any address in it.
* What a limit counts is :attr:`Client.key`: an IPv4 address, or the /64 network of an
  IPv6 address (one subscriber's line gets a whole /64, so counting single IPv6
  addresses would let one line rotate through billions of them).
"""
import ipaddress
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from .auth import bearer_token, token_allowed
from ..runtime.settings import setting

CLIENT_HEADER = "X-Asan-Client-Address"
MAX_ADDRESS = 64  # the longest IPv6 text form is 45 characters; anything longer is not one


@dataclass(frozen=True)
class Client:
    """Who is asking (F-5, F-6): the network ``address`` of the caller, or of the citizen the
    pages forwarded (``via_pages``)."""

    address: str
    via_pages: bool = False

    @property
    def key(self):
        """What rate limits and caps count: the IPv4 address or the IPv6 /64."""
        return limit_key(self.address)

    def __str__(self):
        """As the audit records it (F-6)."""
        return f"{self.address} via web" if self.via_pages else self.address


def limit_key(address):
    """What a limit counts for ``address``: an IPv4 address (also from an IPv4-mapped IPv6 one),
    the /64 network of an IPv6 address, or the text itself when it is not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (a test client, "unknown"): counted as written
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def peer_address(request, proxy_hops=0):
    """The caller's address: the peer's, or, behind ``proxy_hops`` reverse proxies, the
    entry they appended to X-Forwarded-For (never one the client wrote itself)."""
    if proxy_hops <= 0:
        return request.remote_addr or "unknown"
    route = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")
             if hop.strip()]
    if len(route) >= proxy_hops:
        return route[-proxy_hops][:MAX_ADDRESS]
    return request.remote_addr or "unknown"


def client_of(request, frontend_tokens=(), proxy_hops=0):
    """The :class:`Client` behind ``request``."""
    forwarded = request.headers.get(CLIENT_HEADER, "").strip()
    if forwarded and token_allowed(bearer_token(request), frontend_tokens):
        return Client(forwarded[:MAX_ADDRESS], via_pages=True)
    return Client(peer_address(request, proxy_hops))


class Clients(DependencyProvider):
    """``self.clients.of(request)`` → :class:`Client`. Config: ``FRONTEND_TOKEN_SHA256``
    (hashes of the citizen pages' token), ``PROXY_HOPS`` (our proxies before it)."""

    def setup(self):
        """Reads ``FRONTEND_TOKEN_SHA256`` and ``PROXY_HOPS`` from the config."""
        config = self.container.config
        self.frontend_tokens = setting(config, "FRONTEND_TOKEN_SHA256", tuple[str, ...])
        self.proxy_hops = setting(config, "PROXY_HOPS", int)

    def of(self, request):
        """The :class:`Client` behind the werkzeug ``request``."""
        return client_of(request, self.frontend_tokens, self.proxy_hops)

    def get_dependency(self, worker_ctx):
        """Itself: it holds no per-worker state."""
        return self
