"""Database calls of concurrent nameko workers run concurrently.

psycopg 3's C wait function blocks the eventlet hub: every worker doing a query would
wait for the others (ten concurrent pg_sleep(0.5) took 5.06 s here by default, 0.53 s
with PSYCOPG_WAIT_FUNC=wait_select, which ``shared`` sets). We check the overlap of
the sleeps as PostgreSQL saw them, not the wall-clock time."""
import eventlet
import psycopg
import pytest
import requests

from shared.db import Database
from shared.http import http
from tests.demo import CATALOG

pytestmark = pytest.mark.integration


class Sleeper:
    name = "sleeper"
    db = Database(CATALOG)

    @http("POST", "/sleep")
    def sleep(self, request):
        with self.db.connection() as conn:
            started = conn.execute("SELECT clock_timestamp()").fetchone()[0]
            conn.execute("SELECT pg_sleep(0.5)")
            finished = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        return {"started": started.isoformat(), "finished": finished.isoformat()}


def max_overlap(intervals):
    moments = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals])
    running = peak = 0
    for _, step in moments:
        running += step
        peak = max(peak, running)
    return peak


def test_ten_workers_sleep_in_postgres_at_the_same_time(container_factory, rabbit_config,
                                                        fresh_database, free_port):
    config = dict(rabbit_config, DATABASE_URL=fresh_database, DB_POOL_SIZE=10,
                  WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port}", max_workers=10)
    container = container_factory(Sleeper, config)
    container.start()
    url = f"http://127.0.0.1:{free_port}/sleep"
    pool = eventlet.GreenPool(10)
    results = list(pool.imap(lambda _: requests.post(url, timeout=30).json(), range(10)))
    intervals = [(r["started"], r["finished"]) for r in results]
    assert max_overlap(intervals) >= 8  # serialized workers would give 1
    assert psycopg.waiting.wait.__name__ == "wait_select"
