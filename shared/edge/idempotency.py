"""A second click gets the first click's answer (issue 12 §2).

Commands on an existing aggregate settle double clicks by themselves (the stream is
locked, the second sees what the first did: 409 ``already_confirmed``). A command
that *creates* — file a complaint, request a booking, print a walk-in ticket — has
nothing to compare with: two clicks made two complaints, each with its own deadline
and email. Such a route is decorated ``@once``:

    @http("POST", "/complaints")
    @once
    def file_electronic(self, request): ...

and a request that repeats one already answered gets that answer again (the same
complaint, the same reference), with ``Idempotent-Replayed: true``. What counts as
the same request: the same caller (its token, the address the pages forward, its
network address), route and JSON body within :data:`WINDOW` (a double click, a
browser resending a form) — or, for a client that says so, the same
``Idempotency-Key`` header (then for :data:`KEY_WINDOW`: a government system
retrying after a timeout). While the first is still being handled, the second waits
for its answer up to ``IDEMPOTENCY_WAIT_SECONDS`` (5), then is refused 409
``in_progress``. Only a success is kept: a refusal is worked out afresh (it may no
longer hold), and a request that failed can simply be sent again.

The record is a row of the service's own database (platform migration 0003), shared
by every instance, written before the command runs and completed after it.
"""
import functools
import hashlib
import json
import time
from datetime import timedelta

from nameko.extensions import DependencyProvider
from psycopg.types.json import Jsonb
from werkzeug.wrappers import Response

from .boundary import PARSED_BODY
from ..runtime.db import Database, autocommit
from ..vocabulary.errors import Conflict, Text

WINDOW = timedelta(seconds=60)
KEY_WINDOW = timedelta(hours=24)
# A claim whose answer never came (its process died, or the database went away just
# after the command committed) is given up after this: far longer than any request
# may take (database and RPC deadlines are 5 s), so a repeat then runs the command
# again rather than being told "in progress" for the rest of the window. (Found by
# restarting PostgreSQL under load.)
ABANDONED = timedelta(seconds=30)
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_PROGRESS = Text("in_progress", "Eyni sorğu hələ işlənir; bir azdan cavabı yoxlayın.",
                   "The same request is still being handled; check its answer shortly.")

CLAIM = """
INSERT INTO idempotent_requests AS r (key, claimed_at) VALUES (%(key)s, %(now)s)
ON CONFLICT (key) DO UPDATE SET claimed_at = %(now)s, status = NULL, body = NULL
 WHERE r.claimed_at < %(stale)s OR (r.status IS NULL AND r.claimed_at < %(abandoned)s)
RETURNING key
"""


def request_key(request, route):
    """Who asks, what, with which body: a hash (the table holds no personal data)."""
    headers = request.headers
    caller = (headers.get("Authorization", ""), headers.get("X-Asan-Client-Address", ""),
              request.remote_addr or "")
    body = request.environ.get(PARSED_BODY)
    parts = [*caller, route, json.dumps(body, sort_keys=True, ensure_ascii=False),
             headers.get(KEY_HEADER, "")[:200]]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def once(method=None, *, by_body=True):
    """Decorate a creating route: a repeat within the window gets the first answer.
    The service declares ``requests_once = Once()``. ``by_body=False``: only requests
    with the same ``Idempotency-Key`` are one — where two equal bodies are two real
    requests (two people pressing "walk-in, passport" at one kiosk within a minute)."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, request, *args, **kwargs):
            run = lambda: method(self, request, *args, **kwargs)  # noqa: E731
            if not by_body and not request.headers.get(KEY_HEADER):
                return run()
            return self.requests_once.answer(request, method.__name__, run)
        return wrapper
    return decorate(method) if method is not None else decorate


class Once(DependencyProvider):
    """The store of answered requests, in the service's own database."""

    swept_at = None

    def sweep(self, conn, now):
        """Forget answers older than :data:`KEY_WINDOW`, about once a minute."""
        if self.swept_at is not None and now - self.swept_at < timedelta(minutes=1):
            return
        self.swept_at = now
        conn.execute("DELETE FROM idempotent_requests WHERE claimed_at < %s",
                     (now - KEY_WINDOW,))

    def setup(self):
        """Reads ``IDEMPOTENCY_WAIT_SECONDS`` (5 s: how long a repeat waits for the first
        request's answer); raises ``TypeError`` when the service declares no
        :class:`~shared.runtime.db.Database` to keep answers in."""
        config = self.container.config
        self.wait = float(config.get("IDEMPOTENCY_WAIT_SECONDS", 5))
        self.database = next((dependency for dependency in self.container.dependencies
                              if isinstance(dependency, Database)), None)
        if self.database is None:
            raise TypeError(f"{self.container.service_name}: Once keeps its records in the"
                            " service's database; declare a Database dependency")

    def get_dependency(self, worker_ctx):
        """The worker's :class:`Answers`."""
        return Answers(self, worker_ctx)


class Answers:
    """What a worker sees as ``self.requests_once``."""

    def __init__(self, provider, worker_ctx):
        self.provider = provider
        self.worker_ctx = worker_ctx

    def answer(self, request, route, run):
        """``run()``'s result, or the one kept for the same request in the window."""
        key = request_key(request, route)
        now = self.worker_ctx.service.clock()
        window = KEY_WINDOW if request.headers.get(KEY_HEADER) else WINDOW
        deadline = time.monotonic() + self.provider.wait
        while True:
            if self._claim(key, now, window):
                return self._run(key, run)
            kept = self._kept(key)
            if kept is not None:
                return kept
            if time.monotonic() >= deadline:
                raise Conflict(IN_PROGRESS)
            time.sleep(0.05)

    def _claim(self, key, now, window):
        # Each statement of the record is its own transaction (autocommit): one round
        # trip, and the claim is visible to a second click as soon as it is made.
        with autocommit(self.provider.database.pool) as conn:
            claimed = conn.execute(CLAIM, {"key": key, "now": now, "stale": now - window,
                                           "abandoned": now - ABANDONED}
                                   ).fetchone()
            self.provider.sweep(conn, now)
        return claimed is not None

    def _run(self, key, run):
        pool = self.provider.database.pool
        try:
            result = run()
        except BaseException:
            with autocommit(pool) as conn:  # nothing to replay: the next try runs again
                conn.execute("DELETE FROM idempotent_requests WHERE key = %s", (key,))
            raise
        status, payload = _status_and_payload(result)
        with autocommit(pool) as conn:
            if status < 400 and isinstance(payload, (dict, list)):
                conn.execute("UPDATE idempotent_requests SET status = %s, body = %s"
                             " WHERE key = %s", (status, Jsonb(payload), key))
            else:
                conn.execute("DELETE FROM idempotent_requests WHERE key = %s", (key,))
        return result

    def _kept(self, key):
        """The kept answer (status, headers, body), or None while it is being made (or
        when the first try failed and left nothing: the next claim is ours)."""
        with autocommit(self.provider.database.pool) as conn:
            row = conn.execute("SELECT status, body FROM idempotent_requests WHERE key = %s",
                               (key,)).fetchone()
        if row is None or row[0] is None:
            return None
        return row[0], {REPLAYED_HEADER: "true"}, row[1]


def _status_and_payload(result):
    if isinstance(result, Response):
        return result.status_code, None
    if isinstance(result, tuple):
        return result[0], result[-1]
    return 200, result
