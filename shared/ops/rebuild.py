"""Rebuild a service's read models from its event log, and check them (issue 16, D-1).

    .venv/bin/python -m shared.ops.rebuild SERVICE --check   # differences, exit 1 if any
    .venv/bin/python -m shared.ops.rebuild SERVICE --apply   # replace the live tables

A service's state is the fold of its events: its tables are projections of its own
events, written only by ``services/<name>/read_model.py``, which declares

* ``TABLES``: the tables it writes (in the service's database), and
* ``apply(conn, event)``: the change one :class:`~shared.runtime.eventstore.RecordedEvent`
  makes to them — the very function the write path (``UnitOfWork.flush``) calls in
  the transaction that appends the event, so live tables and rebuilt ones cannot be
  made by different code;
* optionally ``rebuild(conn, config)``: replay by other means (monitoring reads other
  services' event logs; a bulk import re-reads its source file),
  ``CHECK_EXCLUDES``: {table: columns that are bookkeeping, not state}, and
  ``CHECK_SHOWN``: {table: columns a difference may print} (default: the first —
  read models hold personal data, which must not reach a terminal or a CI log).

How it works, in one ``REPEATABLE READ`` transaction of the service's database (so
the event log and the live tables are read in the same snapshot, while the service
keeps running): a scratch schema ``rebuild_<service>`` gets an empty copy of each
table (``LIKE … INCLUDING ALL``: the same constraints, so the same conflicts); with
``search_path`` set to it first, every event visible in the snapshot is applied in
the store's order ``(tx, global_position)``; then each table is compared with its
copy both ways (``EXCEPT ALL``: a row missing, extra or different, duplicates
included). ``--check`` prints the differences (at most 20 rows a table and side)
and rolls back; ``--apply`` first locks the live tables against writers (``SHARE
ROW EXCLUSIVE``, taken before the snapshot: a command that appends meanwhile waits
and projects onto the rebuilt tables after), then replaces their rows.
"""
import argparse
import importlib
import sys
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ..runtime.config import service_config
from ..runtime.eventstore import EventStore

SHOWN = 20  # differing rows printed per table and side


@dataclass
class Difference:
    """Rows of ``table`` only in the live table (``live``) or only in the rebuilt one
    (``rebuilt``), as tuples of its compared columns (at most ``SHOWN`` each), and
    how many there are in all."""
    table: str
    columns: list
    live: list = field(default_factory=list)
    rebuilt: list = field(default_factory=list)
    live_count: int = 0
    rebuilt_count: int = 0


def read_model_of(service):
    """The ``services.<service>.read_model`` module; ``LookupError`` if it has none."""
    try:
        return importlib.import_module(f"services.{service}.read_model")
    except ModuleNotFoundError as missing:
        raise LookupError(f"{service} has no read_model.py") from missing


def rebuild(service, apply=False, config=None):
    """Rebuild ``service``'s read models in a scratch schema; returns the list of
    :class:`Difference` with the live tables (empty: identical). ``apply``: replace
    the live tables' rows with the rebuilt ones (then the differences are what was
    corrected)."""
    config = config or service_config(service)
    model = read_model_of(service)
    scratch = f"rebuild_{service}"
    with psycopg.connect(config["DATABASE_URL"]) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction(force_rollback=not apply):
            if apply:  # before the first query: the snapshot comes after the locks
                conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in model.TABLES)))
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(scratch)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
            for table in model.TABLES:
                conn.execute(sql.SQL("CREATE TABLE {}.{} (LIKE public.{} INCLUDING ALL)").format(
                    sql.Identifier(scratch), sql.Identifier(table), sql.Identifier(table)))
            conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(
                sql.Identifier(scratch)))
            if hasattr(model, "rebuild"):
                model.rebuild(conn, config)
            else:
                _replay(conn, model, importlib.import_module(f"services.{service}.events"))
            differences = [d for d in (
                _compare(conn, scratch, table,
                         getattr(model, "CHECK_EXCLUDES", {}).get(table, ()),
                         getattr(model, "CHECK_SHOWN", {}).get(table))
                for table in model.TABLES) if d is not None]
            if apply:
                for table in model.TABLES:
                    conn.execute(sql.SQL("DELETE FROM public.{}").format(sql.Identifier(table)))
                    conn.execute(sql.SQL("INSERT INTO public.{} SELECT * FROM {}.{}").format(
                        sql.Identifier(table), sql.Identifier(scratch), sql.Identifier(table)))
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(scratch)))
    return differences


def _replay(conn, model, events_module, batch=5000):
    """Every event of the service's log visible in this snapshot, in the store's
    order, through ``model.apply``."""
    for rows in EventStore(events_module.CATALOG).batches(conn, batch, visible=True):
        for event in rows:
            model.apply(conn, event)


def _compare(conn, scratch, table, excluded, shown=None):
    """The :class:`Difference` of ``table`` with its rebuilt copy, or ``None``; the
    rows it lists carry only the ``shown`` columns (default: the first)."""
    columns = [name for (name,) in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum", (f"public.{table}",)).fetchall()
        if name not in excluded]
    listed = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    live = sql.SQL("SELECT {} FROM public.{}").format(listed, sql.Identifier(table))
    rebuilt = sql.SQL("SELECT {} FROM {}.{}").format(listed, sql.Identifier(scratch),
                                                    sql.Identifier(table))
    shown = list(shown or columns[:1])
    found = Difference(table, shown)
    for side, first, second in (("live", live, rebuilt), ("rebuilt", rebuilt, live)):
        query = sql.SQL("({}) EXCEPT ALL ({})").format(first, second)
        count = conn.execute(sql.SQL("SELECT count(*) FROM ({}) AS d").format(query)).fetchone()[0]
        setattr(found, f"{side}_count", count)
        if count:
            setattr(found, side, conn.execute(sql.SQL("SELECT {} FROM ({}) AS d LIMIT {}").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in shown), query,
                sql.Literal(SHOWN))).fetchall())
    return found if found.live_count or found.rebuilt_count else None


def report(service, differences, out=sys.stdout):
    """Print ``differences`` for a person; returns the exit status (0: identical)."""
    if not differences:
        print(f"rebuild {service}: the read models are the fold of the event log", file=out)
        return 0
    for d in differences:
        print(f"rebuild {service}: {d.table}: {d.live_count} row(s) only in the live table,"
              f" {d.rebuilt_count} only in the rebuilt one ({', '.join(d.columns)})", file=out)
        for side, rows in (("live   ", d.live), ("rebuilt", d.rebuilt)):
            for row in rows:
                print(f"  {side} {row}", file=out)
    return 1


def main(argv=None):
    """``python -m shared.ops.rebuild SERVICE --check | --apply``; returns the exit status: with
    ``--check``, 1 when a rebuilt table differs from the live one (D-1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true",
                      help="compare with the live tables; exit 1 on any difference")
    mode.add_argument("--apply", action="store_true",
                      help="replace the live tables' rows with the rebuilt ones")
    args = parser.parse_args(argv)
    differences = rebuild(args.service, apply=args.apply)
    status = report(args.service, differences)
    if args.apply:
        print(f"rebuild {args.service}: applied", file=sys.stdout)
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
