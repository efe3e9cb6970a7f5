"""PostgreSQL access for nameko services: migrations at start-up, a connection pool,
and the unit of work a worker uses to change state.

Each service owns its database (D-1); ``DATABASE_URL`` in its config says which.
"""
import logging
import random
import select
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from nameko.extensions import DependencyProvider
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool
from yoyo import get_backend, read_migrations

from ..vocabulary.envelope import new_id
from ..vocabulary.errors import Conflict, Refusal, Text
from .eventstore import AlreadyHandled, ConcurrencyError, EventStore, unit_of_work
from .metrics import COMMAND_RERUNS, EVENTS_APPENDED
from .settings import setting

log = logging.getLogger(__name__)

PLATFORM_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def yoyo_url(database_url):
    """yoyo picks its driver from the URL scheme; ours is psycopg 3."""
    scheme, rest = database_url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else database_url


def apply_migrations(database_url, service_migrations=None):
    """Apply the platform's and the service's SQL migrations (yoyo takes a lock, so
    several instances starting at once are safe). Returns the ids applied."""
    sources = [str(PLATFORM_MIGRATIONS)]
    if service_migrations and Path(service_migrations).is_dir():
        sources.append(str(service_migrations))
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(*sources)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [migration.id for migration in pending]


def check_idle_connection(conn):
    """The pool's check before it lends a connection (issue 13 §1: a database restart
    costs seconds, not one failed request per pooled connection afterwards).

    An idle connection's socket has nothing to read unless the server spoke: a
    restart or ``pg_terminate_backend`` leaves a termination notice or end-of-file
    there. Only then is the connection tried with a round trip (psycopg_pool's own
    check), which raises and so makes the pool discard it and lend a fresh one; a
    healthy connection costs one non-blocking ``select``, no round trip.
    """
    if conn.closed:
        raise ConnectionError("the pooled connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


def make_pool(database_url, size=10, name="pool", timeout=5.0):
    """A psycopg pool. ``timeout``: seconds a worker waits for a connection before the
    request is answered 503 (``PoolTimeout``, see ``shared.edge.http``), so a database
    that stops answering costs seconds, not every worker. Connections broken while
    idle are replaced before use (``check_idle_connection``)."""
    pool = ConnectionPool(database_url, min_size=1, max_size=size, name=name, open=False,
                          timeout=timeout, kwargs={"autocommit": False},
                          check=check_idle_connection)
    pool.open(wait=True, timeout=30)
    return pool


@contextmanager
def autocommit(pool):
    """A pooled connection in autocommit mode for the block: each statement is its own
    transaction, committed by the server as it runs — one round trip where a
    statement and its ``COMMIT`` were two (issue 15 §5: the rate limit, the
    idempotency record). Only for single statements that must commit on their own."""
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            if not conn.closed:  # a broken connection is discarded by the pool anyway
                conn.autocommit = False


# A lost race between two transactions: re-running the command on fresh state
# settles it (another writer appended to the stream, a concurrent insert took the
# same key, PostgreSQL broke a deadlock or a serialization conflict).
RACES = (ConcurrencyError, pg_errors.UniqueViolation, pg_errors.DeadlockDetected,
         pg_errors.SerializationFailure)
RACE_LOST = Text("busy", "Eyni anda bu məlumat üzərində başqa sorğu işlənirdi; zəhmət olmasa"
                 " yenidən cəhd edin.", "Another request changed the same record at the same"
                 " moment; please try again.")
# A key that is still taken when the command runs again on fresh state was not taken
# by a concurrent writer: what was asked for exists already, and trying again will
# not change that.
ALREADY_EXISTS = Text("already_exists", "Bu məlumatla qeyd artıq mövcuddur.",
                      "A record with these details exists already.")


class Database(DependencyProvider):
    """Gives each worker a :class:`ServiceDatabase`.

    ``Database(CATALOG, migrations=Path(__file__).parent / "migrations",
    read_model=read_model)``: the service's ``read_model`` module is applied to every
    event the service appends, in its transaction (``shared.runtime.eventstore.EventStore``).
    """

    def __init__(self, catalog, migrations=None, read_model=None):
        self.catalog = catalog
        self.migrations = migrations
        self.read_model = read_model
        self.pool = None

    def setup(self):
        """Applies the service's migrations (yoyo) to ``DATABASE_URL``, then opens the pool
        (``DB_POOL_SIZE``; ``DB_POOL_TIMEOUT_SECONDS``, 5 s to wait for one)
        and the event store; ``COMMAND_ATTEMPTS`` (5) bounds the re-runs of a command that
        lost a race."""
        config = self.container.config
        url = config["DATABASE_URL"]
        apply_migrations(url, self.migrations)
        self.pool = make_pool(url, size=setting(config, "DB_POOL_SIZE", int),
                              name=self.container.service_name,
                              timeout=float(config.get("DB_POOL_TIMEOUT_SECONDS", 5)))
        self.attempts = int(config.get("COMMAND_ATTEMPTS", 5))
        self.store = EventStore(self.catalog, self.read_model)

    def stop(self):
        """Closes the pool (its connections) once the service has stopped."""
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    kill = stop

    def get_dependency(self, worker_ctx):
        """The worker's :class:`ServiceDatabase`."""
        return ServiceDatabase(self.pool, self.store, worker_ctx, self.attempts)


class ServiceDatabase:
    """One worker's access to the service's database (D-1): commands run in a unit of work that
    appends events and updates read models in one transaction (:meth:`run`), event handlers
    claim their event ids in theirs (:meth:`handling`), reads use a pooled connection
    (:meth:`connection`)."""

    def __init__(self, pool, store, worker_ctx, attempts=5):
        self.pool = pool
        self.store = store
        self.worker_ctx = worker_ctx
        self.attempts = attempts

    @property
    def correlation_id(self):
        """The worker's correlation id (from the request or the event), a new one if it came
        with none; stored on every event it appends."""
        context = self.worker_ctx.context_data
        if not context.get("correlation_id"):
            context["correlation_id"] = new_id()
        return context["correlation_id"]

    @contextmanager
    def unit_of_work(self, causation_id=None):
        """A :func:`shared.runtime.eventstore.unit_of_work` with the worker's correlation id and
        ``causation_id``; yields the ``uow``, commits on leaving. The events it recorded are
        counted in ``asan_events_appended_total`` only once committed."""
        with unit_of_work(self.pool, self.store, self.correlation_id, causation_id) as uow:
            yield uow
        for recorded in uow.recorded:  # counted only once committed
            EVENTS_APPENDED.labels(self.store.catalog.service, recorded.type).inc()

    def run(self, command, causation_id=None):
        """Run ``command(uow)`` in a unit of work and return what it returns; the one
        way a service changes state on a request.

        A race lost to a concurrent transaction (:data:`RACES`: the stream moved on
        since it was read, a key taken meanwhile, a deadlock) rolls the transaction
        back and runs the command again on fresh state, up to ``COMMAND_ATTEMPTS``
        (5) times with a short random pause; then it is refused with 409 ``busy``. A
        key still taken on the second run is no race: 409 ``already_exists``.
        So two clicks of the same button get one answer each, never a 500: the
        second sees what the first did (e.g. 409 ``already_confirmed``).

        ``command`` may run more than once: it must do nothing outside its unit of
        work that cannot be repeated (everything it sends goes through the outbox).

        A refusal the command raises rolls everything back — unless it
        ``keeps_record`` (``shared.vocabulary.errors.Refusal``): then what the command appended
        (the refusal's own events: a refused form, a wrong code counted) is committed
        first, and the refusal raised after. The one way to record a refusal.
        """
        for attempt in range(1, self.attempts + 1):
            kept = None
            try:
                with self.unit_of_work(causation_id) as uow:
                    try:
                        return command(uow)
                    except Refusal as refusal:
                        if not refusal.keeps_record:
                            raise  # nothing of the command is written
                        kept = refusal  # its events commit with the unit of work
            except RACES as race:
                COMMAND_RERUNS.labels(self.store.catalog.service, type(race).__name__).inc()
                if isinstance(race, pg_errors.UniqueViolation) and attempt > 1:
                    raise Conflict(ALREADY_EXISTS) from race
                if attempt == self.attempts:
                    log.warning("command gave up after %d lost races", attempt)
                    raise Conflict(RACE_LOST, error="busy") from race
                time.sleep(random.uniform(0.005, 0.02) * attempt)
                continue
            raise kept

    @contextmanager
    def handling(self, envelope):
        """The unit of work of an event handler: records the event id for this
        handler in the same transaction as its effect, so a redelivered event has no
        second effect (the consumer entrypoint acks on :class:`AlreadyHandled`)."""
        consumer = f"{self.worker_ctx.service_name}.{self.worker_ctx.entrypoint.method_name}"
        with self.unit_of_work(causation_id=envelope.id) as uow:
            uow.claim(consumer, envelope.id)
            yield uow

    @contextmanager
    def handling_many(self, envelopes):
        """The unit of work of a batch handler (``shared.runtime.consumer.on_events``): claims
        every event id of the batch for this handler in one statement, in the same
        transaction as the effect, and yields ``(uow, fresh)``: the envelopes not
        processed before, each once, in their order. The handler applies ``fresh``
        only, so a redelivered event — in another batch or twice in this one — has no
        second effect. How many were duplicates is left on the worker context for the
        consumer's metrics."""
        consumer = f"{self.worker_ctx.service_name}.{self.worker_ctx.entrypoint.method_name}"
        with self.unit_of_work() as uow:
            fresh = claim_new(uow.conn, consumer, envelopes)
            self.worker_ctx.duplicates = len(envelopes) - len(fresh)
            yield uow, fresh

    @contextmanager
    def connection(self):
        """A pooled connection for reads (read models, queries)."""
        with self.pool.connection() as conn:
            yield conn

    def read_stream(self, stream_id):
        """The events of stream ``stream_id`` (``[RecordedEvent]``), in version order,
        without a lock (for queries; a command reads through its unit of work)."""
        with self.connection() as conn:
            return self.store.read_stream(conn, stream_id)

    def ping(self):
        """``True`` when the database answers ``SELECT 1``; raises ``psycopg.OperationalError``
        or ``PoolTimeout`` when it does not (the health check)."""
        with self.connection() as conn:
            conn.execute("SELECT 1")
        return True


def claim_new(conn, consumer, envelopes):
    """Record in ``processed_events`` that ``consumer`` processed ``envelopes`` (in the
    caller's transaction, one statement) and return those it had not processed
    before, each once, in their order. Ids are inserted sorted, so two transactions
    claiming overlapping batches lock them in the same order (no deadlock)."""
    ids = sorted({str(uuid.UUID(envelope.id)) for envelope in envelopes})
    if not ids:
        return []
    claimed = {str(row[0]) for row in conn.execute(
        "INSERT INTO processed_events (consumer, event_id) SELECT %s, id"
        " FROM unnest(%s::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id",
        (consumer, ids)).fetchall()}
    fresh = []
    for envelope in envelopes:
        event_id = str(uuid.UUID(envelope.id))
        if event_id in claimed:
            claimed.discard(event_id)  # the same event later in the batch: applied once
            fresh.append(envelope)
    return fresh


__all__ = ["Database", "ServiceDatabase", "AlreadyHandled", "apply_migrations", "autocommit",
           "claim_new",
           "make_pool"]
