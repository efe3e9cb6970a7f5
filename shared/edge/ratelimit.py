"""Rate limits: abuse is slowed, an honest person never locked out (issue 12, F-5).

Why it is built this way:

* **Shared by every instance.** A limit kept in one process's memory is divided by
  the number of instances (and forgotten on restart): the state is a row in the
  service's own PostgreSQL database (``rate_limits``, ``shared/runtime/migrations/0002``), one
  per limit and client.
* **One atomic statement per check.** The "generic cell rate algorithm" keeps a single
  timestamp per row, the *theoretical arrival time* (TAT): when the client's bucket
  will be full again. A request is let in if pushing the TAT one ``interval`` later
  leaves it at most ``burst`` intervals ahead of now. That is one
  ``INSERT … ON CONFLICT DO UPDATE … WHERE <it fits>``: PostgreSQL locks the row, so
  two instances checking the same client at the same moment are serialized, and
  neither a lost update nor a read-then-write race can let a request through twice.
  A refused request changes nothing (an abuser hammering costs no writes, and gets in
  again as soon as the bucket has room: a wait, never a lock-out).
* **Counted even when the command is then refused.** The check runs in its own short
  transaction *before* the command (not in ``db.run``'s, which a refusal rolls
  back): 100 malformed forms count as 100 requests.
* **The service's clock.** ``now`` is passed in (``self.clock()``), so tests move time.
* **Forgotten when idle.** A row whose TAT has passed is the same as no row (a full
  bucket); such rows are deleted now and then (:data:`SWEEP_EVERY`), by whichever
  instance checks a limit next.

A service declares the limits it has, with their defaults, once; ``RATE_LIMITS`` in
its ``config.yaml`` may change any of them ("30 per hour, burst 10", or "off")::

    limits = RateLimits({"booking_request": "30 per hour, burst 15"})
    ...
    self.limits.check("booking_request", client.key, self.clock())   # or 429

A refusal is :func:`shared.vocabulary.errors.slow_down`'s 429: ``Retry-After`` and a reason in
Azerbaijani and English saying when to try again; each one is counted in
``asan_rate_limited_total{service,limit}``. ``RATE_LIMITS_ENABLED: false`` turns every
limit of the service off (the shared test stack, whose every request comes from
127.0.0.1).
"""
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from ..runtime.db import Database, autocommit
from ..vocabulary.errors import slow_down
from ..runtime.metrics import RATE_LIMITED, at_zero
from ..runtime.settings import setting

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
SPEC = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*"
                  r"(?:,\s*burst\s+(\d+))?\s*$", re.IGNORECASE)
SWEEP_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Limit:
    """``count`` requests per ``period`` sustained, up to ``burst`` at once after a
    quiet spell (a full bucket)."""
    name: str
    count: int
    period: timedelta
    burst: int

    @property
    def interval(self):
        """The time one request costs: the bucket refills one request per interval."""
        return self.period / self.count

    @property
    def tolerance(self):
        """How far ahead of now the TAT may be and a request still fit: ``interval × burst`` (a
        ``timedelta``)."""
        return self.interval * self.burst

    def __str__(self):
        unit = next(u for u, s in UNITS.items() if s == self.period.total_seconds())
        return f"{self.count} per {unit}, burst {self.burst}"


def parse(name, spec):
    """``"30 per hour, burst 10"`` (or ``"30/hour"``: the burst is then the count) as a
    :class:`Limit`; ``"off"`` (or false) as ``None``."""
    if spec is False or str(spec).strip().lower() in ("off", "false", "none", "no"):
        return None
    match = SPEC.match(str(spec))
    if not match:
        raise ValueError(f"rate limit {name}: {spec!r} is not like '30 per hour, burst 10'"
                         " or 'off'")
    count, unit, burst = int(match[1]), match[2].lower(), match[3]
    burst = count if burst is None else int(burst)
    if count < 1 or burst < 1:
        raise ValueError(f"rate limit {name}: count and burst must be at least 1")
    return Limit(name, count, timedelta(seconds=UNITS[unit]), burst)


def enabled(config):
    """Whether the service's limits (and caps) apply: ``RATE_LIMITS_ENABLED``."""
    return setting(config, "RATE_LIMITS_ENABLED", bool)


@dataclass(frozen=True)
class Decision:
    """The outcome of one GCRA check (:func:`decide`): ``admitted``; ``tat``, the theoretical
    arrival time after this request (unchanged if refused); ``wait``, a ``timedelta`` until a
    request fits again (zero when admitted)."""

    admitted: bool
    tat: object  # the theoretical arrival time after this request (unchanged if refused)
    wait: timedelta  # how long until a request fits again (zero when admitted)


def decide(limit, tat, now):
    """GCRA, pure: the rule the SQL statement of :meth:`Limiter.wait` applies.

    ``tat``: the client's theoretical arrival time (``None`` for a new client)."""
    pushed = max(tat or now, now) + limit.interval
    if pushed - now <= limit.tolerance:
        return Decision(True, pushed, timedelta(0))
    return Decision(False, tat, pushed - now - limit.tolerance)


# The whole decision: insert a new client's row, or push its TAT if it fits.
CHECK = """
INSERT INTO rate_limits AS r (limit_name, subject, tat)
VALUES (%(limit)s, %(subject)s, %(now)s + %(interval)s)
ON CONFLICT (limit_name, subject) DO UPDATE
   SET tat = greatest(r.tat, %(now)s) + %(interval)s
 WHERE greatest(r.tat, %(now)s) + %(interval)s <= %(now)s + %(tolerance)s
RETURNING tat
"""
# Only to say how long to wait (the decision is already taken).
CURRENT = "SELECT tat FROM rate_limits WHERE limit_name = %(limit)s AND subject = %(subject)s"
SWEEP = "DELETE FROM rate_limits WHERE tat < %(before)s"


def subject_key(subject):
    """What the table keeps of a subject (an address, an email): a hash, so the
    limiter holds no personal data in clear."""
    return hashlib.sha256(str(subject).encode("utf-8")).hexdigest()


class RateLimits(DependencyProvider):
    """The limits a service has: ``RateLimits(names)``, each spec in the config's
    ``RATE_LIMITS`` (its one default in ``config.yaml``; a name missing there stops
    the start), or ``RateLimits({name: default spec})`` for a service whose settings
    are not one object yet. Uses the service's own database (its
    :class:`~shared.runtime.db.Database` dependency).
    ``decided_elsewhere``: the names of the 429s the service decides itself and counts
    with :meth:`Limiter.refused` (a cap on unconfirmed bookings), so that their counter
    exists from the start too."""

    def __init__(self, defaults, decided_elsewhere=()):
        # Names only: no default in code (None), the config must give each.
        self.defaults = dict(defaults) if isinstance(defaults, dict) else dict.fromkeys(defaults)
        self.decided_elsewhere = tuple(decided_elsewhere)
        self.limits = {}
        self.swept_at = None

    def setup(self):
        """Reads ``RATE_LIMITS`` (``{name: spec}``, overriding the declared defaults) and
        ``RATE_LIMITS_ENABLED``; raises ``ValueError`` for an unknown limit name or a
        malformed spec, and ``TypeError`` if the service declares no
        :class:`~shared.runtime.db.Database` to keep the state in."""
        config = self.container.config
        given = setting(config, "RATE_LIMITS", dict[str, str])
        unknown = set(given) - set(self.defaults)
        if unknown:
            raise ValueError(f"RATE_LIMITS names unknown limits: {', '.join(sorted(unknown))}")
        missing = [name for name, spec in self.defaults.items()
                   if spec is None and name not in given]
        if missing:
            raise ValueError(f"RATE_LIMITS lacks the limits {', '.join(sorted(missing))}")
        self.enabled = enabled(config)
        at_zero(RATE_LIMITED, [self.container.service_name],
                [*self.defaults, *self.decided_elsewhere])
        self.limits = {name: parse(name, given.get(name, spec))
                       for name, spec in self.defaults.items()}
        self.database = next((dependency for dependency in self.container.dependencies
                              if isinstance(dependency, Database)), None)
        if self.database is None:
            raise TypeError(f"{self.container.service_name}: RateLimits keeps its state in"
                            " the service's database; declare a Database dependency")

    def get_dependency(self, worker_ctx):
        """The worker's :class:`Limiter`."""
        return Limiter(self, worker_ctx.service_name)


class Limiter:
    """What a worker sees as ``self.limits``."""

    def __init__(self, provider, service):
        self.provider = provider
        self.service = service

    @property
    def enabled(self):
        """Whether limits apply at all in this service (``RATE_LIMITS_ENABLED``)."""
        return self.provider.enabled

    def limit(self, name):
        """The :class:`Limit` named ``name``, or ``None`` when it is switched off; ``KeyError``
        for a limit the service did not declare."""
        return self.provider.limits[name]

    def wait(self, name, subject, now):
        """Count one request of ``subject`` against limit ``name``: ``0.0`` if it is let
        in, else the seconds until one would be (the refusal is counted in the metric;
        nothing else is recorded)."""
        limit = self.provider.limits[name]  # KeyError: a limit the service did not declare
        if limit is None or not self.provider.enabled:
            return 0.0
        params = {"limit": name, "subject": subject_key(subject), "now": now,
                  "interval": limit.interval, "tolerance": limit.tolerance}
        # Autocommit: the check is its own transaction, one round trip, and the row
        # lock goes as soon as it is decided.
        with autocommit(self.provider.database.pool) as conn:
            admitted = conn.execute(CHECK, params).fetchone()
            if admitted is None:
                row = conn.execute(CURRENT, params).fetchone()
                waited = decide(limit, row[0], now).wait if row else limit.interval
            self._sweep(conn, now)
        if admitted is not None:
            return 0.0
        RATE_LIMITED.labels(self.service, name).inc()
        return max(waited.total_seconds(), 0.001)

    def check(self, name, subject, now, field=None):
        """:meth:`wait`, raising the 429 when the request does not fit."""
        seconds = self.wait(name, subject, now)
        if seconds:
            raise slow_down(name, seconds, field)

    def refused(self, refusal):
        """Count a 429 decided elsewhere (a cap on unconfirmed bookings) and return it."""
        RATE_LIMITED.labels(self.service, refusal.limit or "unnamed").inc()
        return refusal

    def _sweep(self, conn, now):
        provider = self.provider
        if provider.swept_at is not None and provider.swept_at <= now < \
                provider.swept_at + SWEEP_EVERY:
            return
        provider.swept_at = now
        conn.execute(SWEEP, {"before": now - SWEEP_EVERY})
