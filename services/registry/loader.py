"""Fills the FIN registry with a synthetic population (services/registry/population.py).

    python -m services.registry.loader --count 10000000 [--seed 2026] [--replace]
                                       [--database-url URL]

Everything happens in one transaction, so a failed load leaves the registry as it
was: the secondary indexes are dropped (maintaining them row by row makes a
10-million-row load several times slower), both tables are filled with COPY, the
indexes are rebuilt and the tables analysed, then it commits.

No event is written per person (10 million events would dominate the load):
:func:`import_population` records one ``PopulationImported`` (count, seed, day) for
the whole import, in the load's transaction; ``read_model.rebuild`` regenerates the
rows from it with :func:`copy_population` (issue 16).
"""
import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                           TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

from shared.vocabulary.clock import baku_today
from shared.runtime.db import apply_migrations
from shared.vocabulary.envelope import new_id
from shared.runtime.eventstore import EventStore

from . import schema
from .events import CATALOG, PopulationImported
from .population import DOCUMENT_COLUMNS, PERSON_COLUMNS, document_row, generate, person_row

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
COPY_PERSONS = f"COPY persons ({', '.join(PERSON_COLUMNS)}) FROM STDIN (FREEZE)"
COPY_DOCUMENTS = f"COPY id_documents ({', '.join(DOCUMENT_COLUMNS)}) FROM STDIN (FREEZE)"
PROGRESS_EVERY = 10_000        # people between two progress updates
INDEX_MEMORY = "256MB"         # sorts of the index builds stay in memory
EXIT_REFUSED = 2


class RegistryNotEmpty(Exception):
    """The registry already holds people; loading more would mix two populations."""


def load(database_url, count, seed=2026, replace=False, progress=True, on_loaded=None,
         today=None):
    """Load ``count`` people of population ``seed`` and their ID cards, as of ``today``
    (default: the Baku day of the clock; see ``population.generate``).

    Refuses (:class:`RegistryNotEmpty`) if ``persons`` is not empty, unless
    ``replace``, which empties ``persons`` and ``id_documents`` first.
    ``on_loaded(conn, summary)`` runs inside the load transaction, just before
    commit: the hook where the one event for the whole import is to be recorded.
    Returns the summary: people, documents, seconds.
    """
    today = today or baku_today()
    started = time.perf_counter()
    apply_migrations(database_url, MIGRATIONS)
    with psycopg.connect(database_url) as conn:  # one transaction, committed on exit
        prepare(conn, replace)
        with reporter(count, progress) as report:
            documents = copy_population(conn, count, seed, report, today)
            report.stage("building indexes")
            schema.create_indexes(conn)
            conn.execute("ANALYZE persons")
            conn.execute("ANALYZE id_documents")
        summary = {"people": count, "documents": documents, "as_of": today.isoformat(),
                   "seconds": round(time.perf_counter() - started, 3)}
        if on_loaded is not None:
            on_loaded(conn, summary)  # HOOK: the lead records the import event here
    return summary


def prepare(conn, replace):
    """Lock both tables, check they may be (re)filled, empty them and drop the
    secondary indexes. Emptying them with TRUNCATE in this very transaction is also
    what lets COPY … (FREEZE) write the rows already frozen (no later vacuum pass
    over 10 million rows)."""
    conn.execute("LOCK TABLE persons, id_documents IN ACCESS EXCLUSIVE MODE")
    if not replace and conn.execute("SELECT EXISTS (SELECT 1 FROM persons)").fetchone()[0]:
        raise RegistryNotEmpty("the registry already holds people (persons is not empty); "
                               "use --replace to empty persons and id_documents and load anew")
    conn.execute("TRUNCATE persons, id_documents")
    schema.drop_indexes(conn)
    conn.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")


def copy_population(conn, count, seed, report, today=None):
    """COPY the people, then their cards. A connection runs one COPY at a time, so
    the cards are spooled to a temporary file while the people stream (the rows
    are generated once, in one pass). Returns the number of cards."""
    documents = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool, conn.cursor() as cur:
        with cur.copy(COPY_PERSONS) as copy:
            write_row = copy.write_row
            for done, (person, cards) in enumerate(generate(count, seed, today), 1):
                write_row(person_row(person))
                for card in cards:
                    # COPY text format by hand: card numbers, FINs, ISO dates and
                    # status words hold no tab, newline or backslash to escape
                    spool.write("%s\t%s\t%s\t%s\t%s\n" % document_row(card))
                documents += len(cards)
                if done % PROGRESS_EVERY == 0:
                    report.advance(PROGRESS_EVERY)
            report.advance(count % PROGRESS_EVERY)
        report.stage("copying ID documents")
        spool.seek(0)
        with cur.copy(COPY_DOCUMENTS) as copy:
            while chunk := spool.read(1 << 20):
                copy.write(chunk)
    return documents


def import_population(database_url, count, seed, replace=False, progress=True):
    """Load the synthetic population (:func:`load`) and record the import as one
    ``PopulationImported`` event in the same transaction. Returns the summary."""
    def record(conn, summary):
        imported = PopulationImported(
            people=summary["people"], documents=summary["documents"], seed=seed,
            as_of=summary["as_of"],
            source="synthetic generator (services/registry/population.py)")
        event = CATALOG.new(imported.event_type, "population", imported.data, new_id())
        EventStore(CATALOG).append(conn, "population", None, [event])

    started = time.perf_counter()
    summary = load(database_url, count, seed, replace=replace, progress=progress,
                   on_loaded=record)
    summary.setdefault("seconds", time.perf_counter() - started)
    return summary


# --- progress ------------------------------------------------------------------

class PlainReport:
    """Progress as a line every 10%, for logs and pipes (no terminal to redraw)."""

    def __init__(self, total, out=None):
        self.total, self.done, self.next_tenth = total, 0, 1
        self.out = out or sys.stdout

    def advance(self, people):
        """Count people more loaded; print each tenth of the total reached."""
        self.done += people
        while self.next_tenth <= 10 and 0 < self.total * self.next_tenth <= self.done * 10:
            self.say(f"loaded {self.done:,} of {self.total:,} people ({self.next_tenth * 10}%)")
            self.next_tenth += 1

    def stage(self, what):
        """Say that the next stage began (e.g. "indexes")."""
        self.say(what)

    def say(self, line):
        """Print ``line`` at once."""
        print(line, file=self.out, flush=True)


class RichReport:
    """A progress bar with rate and time left, when stdout is a terminal."""

    def __init__(self, progress, total):
        self.progress = progress
        self.task = progress.add_task("people", total=total)

    def advance(self, people):
        """Advance the progress bar by ``people``."""
        self.progress.advance(self.task, people)

    def stage(self, what):
        """Print the next stage's name above the bar."""
        self.progress.console.print(what)


class SilentReport:
    """No output (``progress=False``: tests, and callers that report themselves)."""

    def advance(self, people):
        """Nothing: a silent load."""
        pass

    def stage(self, what):
        """Nothing: a silent load."""
        pass


class RateColumn(ProgressColumn):
    """People a second (rich's own speed column counts bytes)."""

    def render(self, task):
        """The speed of the load, in people a second."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} people/s" if speed else "", style="progress.data.speed")


@contextmanager
def reporter(total, enabled):
    """A rich progress bar on a terminal, plain lines otherwise, nothing if not
    ``enabled``."""
    if not enabled:
        yield SilentReport()
        return
    console = Console()
    if not console.is_terminal:
        yield PlainReport(total)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        yield RichReport(progress, total)


# --- command line --------------------------------------------------------------

def default_database_url():
    """The registry service's own database. Imported here, not at the top: the
    config loader brings in nameko's CLI, which load() called from code does not need."""
    from shared.runtime.config import service_config
    return service_config("registry")["DATABASE_URL"]


def parse_args(argv):
    """The loader's command line: ``--count``, ``--seed``, ``--database-url``,
    ``--replace``, ``--if-empty``, ``--quiet``."""
    parser = argparse.ArgumentParser(
        prog="python -m services.registry.loader",
        description="Load a synthetic population into the FIN registry.")
    parser.add_argument("--count", type=int, required=True, help="how many people")
    parser.add_argument("--seed", type=int, default=2026,
                        help="the population (same seed and count, same people)")
    parser.add_argument("--database-url", help="default: the registry service's DATABASE_URL")
    parser.add_argument("--replace", action="store_true",
                        help="empty persons and id_documents first")
    parser.add_argument("--if-empty", action="store_true",
                        help="load only into an empty registry; otherwise do nothing (exit 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    return args


def main(argv=None):
    """Load a synthetic population (``python -m services.registry.loader``); exit status 0,
    or 1 with the reason."""
    args = parse_args(argv)
    try:
        summary = import_population(args.database_url or default_database_url(), args.count,
                                    args.seed, replace=args.replace, progress=not args.quiet)
    except RegistryNotEmpty as refused:
        if args.if_empty:
            print("registry loader: the registry already has people; nothing loaded")
            return 0
        print(f"registry loader: refused: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    seconds = summary["seconds"] or 1e-9
    print(f"loaded {summary['people']:,} people and {summary['documents']:,} ID documents "
          f"in {summary['seconds']:.1f} s ({summary['people'] / seconds:,.0f} people/s, "
          f"{(summary['people'] + summary['documents']) / seconds:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
