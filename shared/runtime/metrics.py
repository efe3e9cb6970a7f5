"""Prometheus metrics shared by every service (D-4).

Every metric carries a ``service`` label so one dashboard covers the platform.
``EntrypointMetrics`` is a dependency each service class declares once; it times
every worker (HTTP, RPC, event handler, timer) and counts it by outcome.

Every labelled counter or histogram that an alert or a dashboard panel reads is
given its series at zero, with :func:`at_zero`, as soon as the process knows the
label values (at import, or when the container sets up): Prometheus's
``increase()`` and ``rate()`` see nothing of a series whose first sample already
counts the first event, so an alert on "the first crash" would never fire, and a
panel would show "No data" instead of 0.
"""
import itertools
import time

from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from ..vocabulary.errors import Refusal

ENTRYPOINT_CALLS = Counter(
    "asan_entrypoint_calls_total", "Entrypoint calls by outcome",
    ["service", "entrypoint", "outcome"])
ENTRYPOINT_LATENCY = Histogram(
    "asan_entrypoint_duration_seconds", "Entrypoint latency", ["service", "entrypoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS_APPENDED = Counter(
    "asan_events_appended_total", "Events appended to the event store", ["service", "type"])
EVENTS_PUBLISHED = Counter(
    "asan_events_published_total", "Outbox messages confirmed by RabbitMQ",
    ["service", "exchange"])
EVENTS_CONSUMED = Counter(
    "asan_events_consumed_total",
    "Events received by a consumer, by outcome (ok, duplicate, retry, dead_lettered, later)",
    ["service", "consumer", "outcome"])
EVENTS_DEAD_LETTERED = Counter(
    "asan_events_dead_lettered_total", "Messages parked in a dead-letter queue",
    ["service", "consumer"])
COMMAND_RERUNS = Counter(
    "asan_command_reruns_total",
    "Commands run again on fresh state after losing a race to a concurrent transaction",
    ["service", "race"])
RATE_LIMITED = Counter(
    "asan_rate_limited_total",
    "Requests answered 429 by a rate limit or a cap on unconfirmed bookings (issue 12, F-5)",
    ["service", "limit"])
RELAY_LAG = Gauge(
    "asan_relay_lag_seconds", "Age of the oldest message still waiting in the outbox",
    ["service"])
RELAY_LEADER = Gauge(
    "asan_relay_leader", "1 while this relay holds its service's relay lock and publishes",
    ["service"])
RELAY_PENDING = Gauge(
    "asan_outbox_pending", "Messages waiting in the outbox", ["service"])


# What a call can end in (:func:`outcome_of`), and an event received by a consumer.
ENTRYPOINT_OUTCOMES = ("ok", "refused", "error", "later")
CONSUMED_OUTCOMES = ("ok", "duplicate", "retry", "dead_lettered", "later")


def at_zero(metric, *label_values):
    """``metric``, given a series for every combination of ``label_values`` (one
    iterable of values per label, in the metric's label order): a counter at 0, a
    histogram with empty buckets. Returns ``metric``, so that a declaration reads
    ``NAME = at_zero(Counter(...), values, ...)``. Not for gauges: 0 would be a claim."""
    for combination in itertools.product(*label_values):
        metric.labels(*combination)
    return metric


def exposition():
    """The body and content type of a ``/metrics`` response."""
    return generate_latest(), CONTENT_TYPE_LATEST


class EntrypointMetrics(DependencyProvider):
    """Counts every entrypoint call by outcome (``asan_entrypoint_calls_total``: ok, refused,
    error, later) and times it (``asan_entrypoint_duration_seconds``, in seconds) for
    Prometheus (D-4, M-1)."""

    def setup(self):
        """Every entrypoint of the service, at zero for every outcome (:func:`at_zero`)."""
        service = self.container.service_name
        names = sorted({entrypoint.method_name for entrypoint in self.container.entrypoints})
        at_zero(ENTRYPOINT_CALLS, [service], names, ENTRYPOINT_OUTCOMES)
        at_zero(ENTRYPOINT_LATENCY, [service], names)

    def worker_setup(self, worker_ctx):
        """Notes when the worker started (``time.perf_counter``, seconds)."""
        worker_ctx.data["_metrics_started"] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        """Counts the call's outcome (:func:`outcome_of`) and observes its duration in seconds."""
        started = worker_ctx.data.pop("_metrics_started", None)
        service = worker_ctx.service_name
        name = worker_ctx.entrypoint.method_name
        outcome = outcome_of(result, exc_info)
        ENTRYPOINT_CALLS.labels(service, name, outcome).inc()
        if started is not None:
            ENTRYPOINT_LATENCY.labels(service, name).observe(time.perf_counter() - started)


def outcome_of(result, exc_info):
    """``ok``, ``refused`` (a 4xx answer: the caller's fault), ``error``, or what an
    exception that is not a failure says it is (``later``:
    ``shared.runtime.consumer.RedeliverLater``, a handler asking for its message again)."""
    if exc_info is not None:
        declared = getattr(exc_info[1], "entrypoint_outcome", None)
        if declared:
            return declared
        return "refused" if isinstance(exc_info[1], Refusal) else "error"
    status = getattr(result, "status_code", None)
    if status is None and isinstance(result, tuple) and result and isinstance(result[0], int):
        status = result[0]
    if status is not None and status >= 500:
        return "error"
    if status is not None and status >= 400:
        return "refused"
    return "ok"
