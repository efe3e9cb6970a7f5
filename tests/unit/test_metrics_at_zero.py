"""D-4: every labelled counter an alert or a dashboard panel reads exists at 0 from
start-up for the label values the process knows (``shared.runtime.metrics.at_zero``), so that
the first crash, the first throttled lookup or the first failed email is an increase
Prometheus sees. The running platform is checked the same way through a real
Prometheus by tests/e2e/test_prometheus.py."""
import importlib
import os
import subprocess
import sys

import pytest
from nameko.containers import ServiceContainer
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from shared.ops import supervision
from shared.runtime.config import SERVICES, service_config
from shared.runtime.metrics import ENTRYPOINT_OUTCOMES, EntrypointMetrics, at_zero
from services.booking.reference import ReferenceData
from shared.edge.ratelimit import RateLimits


# The tests below read the process's own registry, which the in-process services of
# integration tests count into when the whole suite runs in one process: they run in
# a fresh interpreter of their own (the first test here), where nothing was counted.
FRESH = "ASAN_FRESH_METRICS_PROCESS"
in_fresh_process = pytest.mark.skipif(
    not os.environ.get(FRESH), reason="runs in a fresh interpreter: see "
    "test_the_process_registry_checks_pass_in_a_fresh_interpreter")


def test_the_process_registry_checks_pass_in_a_fresh_interpreter():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         __file__, "-k", "not fresh_interpreter"],
        env=dict(os.environ, **{FRESH: "1"}), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " skipped" not in result.stdout.splitlines()[-1], result.stdout[-2000:]


def test_at_zero_gives_every_combination_a_zero_sample():
    registry = CollectorRegistry()
    counter = at_zero(Counter("asan_things_total", "things", ["service", "kind"],
                              registry=registry), ["a", "b"], ("x", "y", "z"))
    assert counter is not None
    for service in ("a", "b"):
        for kind in ("x", "y", "z"):
            assert registry.get_sample_value("asan_things_total",
                                             {"service": service, "kind": kind}) == 0


@pytest.mark.parametrize("scale", [1, 3])
def test_d4_every_supervised_program_has_its_crash_counter_at_zero(scale):
    """ProcessCrashed reads ``increase(asan_process_exits_total{expected="false"}[10m])``."""
    registry = CollectorRegistry()
    supervision.process_metrics(supervision.program_names(scale), registry)
    programs = [name for name, _ in supervision.processes()]
    assert "booking-relay" in programs
    for program in programs:
        names = [program] if scale == 1 else [f"{program}-{k}" for k in range(scale)]
        for name in names:  # what supervisord calls them in its events (numprocs_start 0)
            for expected in ("false", "true"):
                assert registry.get_sample_value(
                    "asan_process_exits_total", {"program": name, "expected": expected}) == 0


def test_d4_the_listener_is_told_the_scale_supervisord_runs():
    config = supervision.render_config("/state", "/log", scale=2, amqp_uris={})
    assert "shared.ops.supervision listen --scale 2" in config


@in_fresh_process
def test_d4_fin_throttling_and_lookups_are_at_zero_once_the_registry_is_loaded():
    """FinLookupThrottling and the "FIN lookups" panels."""
    registry = importlib.import_module("services.registry.service")
    for method in registry.FIN_METHODS:
        assert REGISTRY.get_sample_value("asan_fin_throttled_total", {"method": method}) == 0
        for outcome in registry.FIN_OUTCOMES:
            assert REGISTRY.get_sample_value("asan_fin_queries_total",
                                             {"method": method, "outcome": outcome}) == 0


@in_fresh_process
def test_d4_every_centre_s_kiosk_and_counter_series_are_at_zero_once_the_gateway_is_loaded():
    """The kiosk activations, slow-downs and counters' panels and recording rules: a
    series per centre (reference data) from start-up, not from its first ticket."""
    gateway = importlib.import_module("services.kiosk_gateway.service")
    reference = ReferenceData.load()
    assert len(reference.centres) > 1
    for centre, info in reference.centres.items():
        assert REGISTRY.get_sample_value("asan_kiosk_activations_total",
                                         {"centre": centre, "outcome": "ticket"}) == 0
        assert REGISTRY.get_sample_value("asan_kiosk_slowed_down_total",
                                         {"centre": centre}) == 0
        for outcome in gateway.COUNTER_OUTCOMES:
            assert REGISTRY.get_sample_value("asan_ticket_calls_total",
                                             {"centre": centre, "outcome": outcome}) == 0
        for service in info.services:
            assert REGISTRY.get_sample_value("asan_ticket_waiting_seconds_count",
                                             {"centre": centre, "service": service}) == 0


@in_fresh_process
def test_d4_every_email_template_and_outcome_is_at_zero_once_notification_is_loaded():
    """EmailFailureRate reads the permanent and technical failures of every template."""
    notification = importlib.import_module("services.notification.service")
    assert "booking_confirmation_code" in notification.TEMPLATES.versions
    for template in notification.TEMPLATES.versions:
        for outcome in ("delivered", "temporary", "permanent", "technical"):
            assert REGISTRY.get_sample_value("asan_emails_total",
                                             {"template": template, "outcome": outcome}) == 0


SERVICE_CLASSES = {
    "booking": "services.booking.service:BookingService",
    "notification": "services.notification.service:NotificationService",
    "kiosk_gateway": "services.kiosk_gateway.service:KioskGatewayService",
    "registry": "services.registry.service:RegistryService",
    "complaints": "services.complaints.service:ComplaintsService",
    "monitoring": "services.monitoring.service:MonitoringService",
}


def _container(service):
    module, _, name = SERVICE_CLASSES[service].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return ServiceContainer(cls, service_config(service))  # bound, not started


def _dependency(container, kind):
    return next((d for d in container.dependencies if isinstance(d, kind)), None)


@in_fresh_process
@pytest.mark.parametrize("service", SERVICES)
def test_d4_every_entrypoint_is_counted_at_zero_when_the_service_sets_up(service):
    """ServiceErrors and the "Calls per second" panels: each entrypoint, each outcome."""
    container = _container(service)
    _dependency(container, EntrypointMetrics).setup()
    names = {entrypoint.method_name for entrypoint in container.entrypoints}
    assert "health" in names
    for name in names:
        for outcome in ENTRYPOINT_OUTCOMES:
            assert REGISTRY.get_sample_value(
                "asan_entrypoint_calls_total",
                {"service": service, "entrypoint": name, "outcome": outcome}) == 0


@in_fresh_process
@pytest.mark.parametrize("service, limits", [
    ("booking", {"booking_request", "holds_per_address", "holds_per_email",
                 "holds_per_phone"}),
    ("registry", {"fin_lookup"}),
    ("complaints", {"complaint_file"}),
])
def test_d4_every_rate_limit_is_counted_at_zero_when_the_service_sets_up(service, limits):
    """RequestsRateLimited reads ``asan_rate_limited_total{service,limit}``, the caps on
    unconfirmed bookings (decided by booking itself) included."""
    container = _container(service)
    _dependency(container, RateLimits).setup()
    for limit in limits:
        assert REGISTRY.get_sample_value("asan_rate_limited_total",
                                         {"service": service, "limit": limit}) == 0
