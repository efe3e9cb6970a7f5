"""Rebuild the monitoring read models from the services' event logs.

    python -m services.monitoring.rebuild [--config services/monitoring/config.yaml]

For a new monitoring database, after a change of a read model, or when in doubt. In
one transaction: the read models and the consumers' processed-event records are
emptied, then every stored event of every service is read in commit order, cut to
its public form (what RabbitMQ carried: the catalogue's public schema), applied by
the same ``projection.apply_many`` as the live consumers, 5,000 events at a time,
and recorded as processed. The
report of any day is then the same as the live consumers had made it. Events
published while it runs are applied after it commits, or found already applied.
Generated reports (``control_reports``) are kept: they are what was announced.
"""
import argparse
from pathlib import Path

import psycopg

from shared.config import load_config
from shared.db import apply_migrations, claim_new
from shared.eventstore import START, EventStore

from . import projection
from .projection import CATALOGS

CONFIG = Path(__file__).resolve().parent / "config.yaml"
BATCH = 5000


def consumer_of(source):
    """The processed-event name of the live consumer of ``source`` (service.py)."""
    return f"monitoring.on_{source}_event"


def public_events(conn, catalog):
    """The stored events of one service that were published, in their public form."""
    for batch in public_batches(conn, catalog):
        yield from batch


def public_batches(conn, catalog):
    """:func:`public_events` a read of ``BATCH`` stored events at a time."""
    store, after = EventStore(catalog), START
    while True:
        batch = store.read_all(conn, after=after, limit=BATCH)
        if not batch:
            return
        public = []
        for recorded in batch:
            data = catalog.public_form(recorded.envelope)
            if data is not None:
                public.append(recorded.envelope.with_data(data))
        yield public
        after = batch[-1].cursor


def rebuild(database_url, event_logs):
    """Returns {source: events applied}. Each read of ``BATCH`` events is applied as
    the live consumers apply theirs (``projection.apply_many``, ids claimed at once)."""
    apply_migrations(database_url, Path(__file__).resolve().parent / "migrations")
    applied = {}
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute(f"TRUNCATE {', '.join(projection.READ_MODELS)}")
        conn.execute("DELETE FROM processed_events WHERE consumer = ANY(%s)",
                     ([consumer_of(source) for source in CATALOGS],))
        for source, catalog in CATALOGS.items():
            count = 0
            with psycopg.connect(event_logs[source]) as log_conn:
                log_conn.read_only = True
                with log_conn.transaction():
                    for batch in public_batches(log_conn, catalog):
                        # Every event is applied: the read models were emptied above,
                        # whatever a live consumer claimed meanwhile.
                        claim_new(conn, consumer_of(source), batch)
                        projection.apply_many(conn, batch)
                        count += len(batch)
            applied[source] = count
    return applied


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    applied = rebuild(config["DATABASE_URL"], config["EVENT_LOGS"])
    for source, count in applied.items():
        print(f"rebuild: {count:8d} events of {source}")


if __name__ == "__main__":
    main()
