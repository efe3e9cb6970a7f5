"""Issue 12 (F-5 spirit): the shared limiter on the real PostgreSQL — the one SQL
statement decides as the pure rule does, two service instances (two pools) share one
limit under concurrency, idle rows are swept, and refusals are counted."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import eventlet
import psycopg
import pytest
from prometheus_client import REGISTRY

from shared.edge import ratelimit
from shared.runtime.db import make_pool
from shared.vocabulary.errors import TooManyRequests

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def instances(fresh_database):
    """Two "instances" of a service: each its own provider and pool, one database."""
    pools = []

    def limiter(**specs):
        provider = ratelimit.RateLimits(specs)
        provider.limits = {name: ratelimit.parse(name, spec) for name, spec in specs.items()}
        provider.enabled = True
        pools.append(make_pool(fresh_database, size=10, name="limits"))
        provider.database = SimpleNamespace(pool=pools[-1])
        return ratelimit.Limiter(provider, "limits_test")

    yield limiter
    for pool in pools:
        pool.close()


def rows(database):
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT limit_name, subject, tat FROM rate_limits").fetchall()


def test_the_statement_decides_as_the_rule_does(instances):
    limiter = instances(x="60 per minute, burst 3")
    limit = limiter.limit("x")
    tat = None
    for second in (0, 0, 0, 0, 0.5, 1, 1, 5, 5, 5, 5, 4, 60, 60.2):
        now = T0 + timedelta(seconds=second)
        expected = ratelimit.decide(limit, tat, now)
        waited = limiter.wait("x", "198.51.100.7", now)
        assert (waited == 0) == expected.admitted, second
        if not expected.admitted:
            assert waited == pytest.approx(expected.wait.total_seconds())
        tat = expected.tat


def test_issue_12_two_instances_share_one_limit_even_at_the_same_moment(instances,
                                                                       fresh_database):
    """50 requests at once, half through each instance: exactly the burst gets in."""
    first, second = instances(x="10 per hour, burst 7"), instances(x="10 per hour, burst 7")
    pool = eventlet.GreenPool(50)
    waits = list(pool.imap(lambda n: (first, second)[n % 2].wait("x", "client", T0),
                           range(50)))
    assert waits.count(0.0) == 7
    assert all(wait == pytest.approx(360) for wait in waits if wait)  # one per 6 minutes
    assert len(rows(fresh_database)) == 1
    assert second.wait("x", "another client", T0) == 0.0  # clients are counted apart
    assert first.wait("x", "client", T0 + timedelta(minutes=6)) == 0.0  # then it goes on


def test_the_table_keeps_no_subject_in_clear_and_idle_rows_are_swept(instances,
                                                                    fresh_database):
    limiter = instances(x="60 per minute, burst 2")
    limiter.wait("x", "leyla@example.az", T0)
    [(name, subject, _)] = rows(fresh_database)
    assert name == "x" and "leyla" not in subject and len(subject) == 64
    # The bucket is full again a second later; a minute after that the row goes at the
    # next check (by any client).
    limiter.wait("x", "198.51.100.7", T0 + timedelta(seconds=30))
    assert len(rows(fresh_database)) == 2
    limiter.wait("x", "198.51.100.7", T0 + timedelta(minutes=5))
    assert [row[0] for row in rows(fresh_database)] == ["x"]
    assert rows(fresh_database)[0][1] == ratelimit.subject_key("198.51.100.7")


def test_a_refusal_is_counted_in_the_metric_and_says_when_to_come_back(instances):
    limiter = instances(x="1 per hour, burst 1", off="off")
    labels = {"service": "limits_test", "limit": "x"}
    before = REGISTRY.get_sample_value("asan_rate_limited_total", labels) or 0
    limiter.check("x", "client", T0)
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("x", "client", T0 + timedelta(minutes=15), field="email")
    assert refused.value.headers["Retry-After"] == "2700"
    assert refused.value.reasons[0].field == "email"
    assert "45 minutes" in refused.value.message.en and "45 dəqiqə" in refused.value.message.az
    assert REGISTRY.get_sample_value("asan_rate_limited_total", labels) == before + 1
    for _ in range(5):
        limiter.check("off", "client", T0)  # a limit set "off" lets everything in
