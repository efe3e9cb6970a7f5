"""Each test is a citizen of its own (issue 12 §7 keeps its limits on in `make test`).

The tests all call the services from 127.0.0.1: to the abuse limits that is one
client making thousands of requests. The citizen pages have the same problem and
solve it with their token and ``X-Asan-Client-Address`` (``shared.edge.clients``); the
test process does what they do. Every request it sends to a service without a
token of its own carries the pages' development token and an address in the
198.18.0.0/15 benchmarking range that is fixed per test (and new for each run) — so
each test counts as one citizen, and the limits a test does not exercise never get in
its way. A test that sets either header itself (the limit tests do) is left alone.
"""
import hashlib
import secrets

FRONTEND_TOKEN = "web-frontend-dev-token"  # the local default of WEB_FRONTEND_TOKEN
CLIENT_HEADER = "X-Asan-Client-Address"


class Citizen:
    address = "198.18.0.1"
    run = secrets.token_hex(8)  # a run of the suite: its citizens are new people

    def become(self, nodeid):
        digest = hashlib.sha256(f"{self.run}:{nodeid}".encode("utf-8")).digest()
        self.address = f"198.{18 + digest[0] % 2}.{digest[1]}.{digest[2] or 1}"


CITIZEN = Citizen()


def identify(request):
    """Add the test's citizen to an outgoing ``requests`` request, unless it already
    says who it is."""
    headers = request.headers
    if "Authorization" in headers or CLIENT_HEADER in headers:
        return
    headers["Authorization"] = f"Bearer {FRONTEND_TOKEN}"
    headers[CLIENT_HEADER] = CITIZEN.address


def as_citizen(address=None):
    """Headers that make one request a citizen of its own (a random address in the
    198.18.0.0/15 range unless one is given): for tests that stand for many people."""
    import random

    address = address or f"198.19.{random.randrange(256)}.{random.randrange(1, 256)}"
    return {"Authorization": f"Bearer {FRONTEND_TOKEN}", CLIENT_HEADER: address}
