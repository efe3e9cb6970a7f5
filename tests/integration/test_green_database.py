"""Database calls of concurrent nameko workers run concurrently.

psycopg 3's C wait function blocks the eventlet hub: every worker doing a query would
wait for the others (ten concurrent pg_sleep(0.5) took 5.06 s here by default, 0.53 s
with PSYCOPG_WAIT_FUNC=wait_select, which ``shared`` sets). Each worker's query here
is a barrier in PostgreSQL: it returns once all ten are inside it at the same time,
which only concurrent workers can reach (serialized ones each give up after
``statement_timeout``). No wall-clock time and no window a busy machine could miss."""
import eventlet
import psycopg
import pytest
import requests

from shared.runtime.db import Database
from shared.edge.http import http
from tests.conftest import platform_config
from tests.demo import CATALOG

pytestmark = pytest.mark.integration
WORKERS = 10
# Each arrival counts itself on a sequence (not transactional: seen at once by all),
# then waits until all have arrived.
BARRIER = f"""DO $$ BEGIN
    PERFORM nextval('green_barrier');
    WHILE (SELECT last_value FROM green_barrier) < {WORKERS} LOOP
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$"""


class Sleeper:
    name = "sleeper"
    db = Database(CATALOG)

    @http("POST", "/barrier")
    def barrier(self, request):
        """200 once every worker is inside the barrier; a 5xx after 20 s alone in it."""
        with self.db.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = '20s'")
            conn.execute(BARRIER)
        return {"met": True}


def test_ten_workers_are_in_postgres_at_the_same_time(container_factory, rabbit_config,
                                                      fresh_database, free_port):
    config = platform_config(rabbit_config, DATABASE_URL=fresh_database, DB_POOL_SIZE=WORKERS,
                  WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port}", max_workers=WORKERS)
    with psycopg.connect(fresh_database) as conn:
        conn.execute("CREATE SEQUENCE green_barrier")
    container = container_factory(Sleeper, config)
    container.start()
    url = f"http://127.0.0.1:{free_port}/barrier"
    pool = eventlet.GreenPool(WORKERS)
    answers = list(pool.imap(lambda _: requests.post(url, timeout=600), range(WORKERS)))
    assert [answer.status_code for answer in answers] == [200] * WORKERS
    assert psycopg.waiting.wait.__name__ == "wait_select"
