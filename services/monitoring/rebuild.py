"""Rebuild the monitoring read models from the services' event logs, from scratch.

    python -m services.monitoring.rebuild [--config services/monitoring/config.yaml]

For a new monitoring database, after a change of a read model, or when in doubt. In
one transaction: the read models and the consumers' processed-event records are
emptied, then every stored event of every service is read in commit order, cut to
its public form (what RabbitMQ carried: the catalogue's public schema), applied by
the same ``read_model.apply_public_many`` as the live consumers, 5,000 events at a
time, and recorded as processed. The
report of any day is then the same as the live consumers had made it. Events
published while it runs are applied after it commits, or found already applied.
Generated reports (``control_reports``) are kept: they are what was announced.

To compare the live tables with their rebuild instead, without touching them, or to
replace them in one snapshot: ``python -m shared.ops.rebuild monitoring --check`` /
``--apply`` (``read_model.rebuild``).
"""
import argparse
from pathlib import Path

import psycopg

from shared.runtime.config import load_config
from shared.runtime.db import apply_migrations, claim_new

from . import read_model
from .read_model import CATALOGS, consumer_of, public_batches
from .settings import MonitoringSettings

CONFIG = Path(__file__).resolve().parent / "config.yaml"


def public_events(conn, catalog):
    """The stored events of one service that were published, in their public form."""
    for batch in public_batches(conn, catalog):
        yield from batch


def rebuild(database_url, event_logs):
    """Returns {source: events applied}. Each read of ``BATCH`` events is applied as
    the live consumers apply theirs (``read_model.apply_public_many``, ids claimed at once)."""
    apply_migrations(database_url, Path(__file__).resolve().parent / "migrations")
    applied = {}
    with psycopg.connect(database_url) as conn, conn.transaction():
        read_model.empty_public_read_models(conn)
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
                        read_model.apply_public_many(conn, batch)
                        count += len(batch)
            applied[source] = count
    return applied


def main(argv=None):
    """The command line: rebuild from the config's ``DATABASE_URL`` and ``EVENT_LOGS``
    (one database URL per source service), and print how many events of each were applied."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    args = parser.parse_args(argv)
    settings = MonitoringSettings.from_config(load_config(args.config))
    applied = rebuild(settings.DATABASE_URL, settings.EVENT_LOGS)
    for source, count in applied.items():
        print(f"rebuild: {count:8d} events of {source}")


if __name__ == "__main__":
    main()
