"""One typed settings object per service (shared/runtime/settings.py): each key of a
service's ``config.yaml`` is a field of its settings class and each field a key
there, so a setting has one name and one default (the ``${VAR:default}`` in
``config.yaml``); a missing or malformed key stops the service at start-up."""
import re
from dataclasses import FrozenInstanceError, dataclass

import pytest
import yaml

from services.booking.settings import BookingSettings
from services.complaints.settings import ComplaintsSettings
from services.kiosk_gateway.settings import KioskGatewaySettings
from services.monitoring.settings import MonitoringSettings
from services.notification.settings import NotificationSettings
from services.registry.settings import RegistrySettings
from services.web.settings import WebSettings
from shared.runtime.config import REPO_ROOT, service_config, service_config_path
from shared.runtime.settings import Settings, SettingsError

# The services whose settings are one object; a service is added here when it is.
SETTINGS = {"registry": RegistrySettings, "complaints": ComplaintsSettings,
            "monitoring": MonitoringSettings, "notification": NotificationSettings,
            "web": WebSettings, "kiosk_gateway": KioskGatewaySettings,
            "booking": BookingSettings}


def yaml_keys(service):
    """The top-level keys as written in the file (no environment involved)."""
    with open(service_config_path(service), encoding="utf-8") as handle:
        return set(yaml.load(handle, Loader=_KeysOnly))


class _KeysOnly(yaml.SafeLoader):
    """A loader that takes every tag (``!env_var``…) as plain text: only keys matter."""


_KeysOnly.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_key_of_config_yaml_is_a_declared_setting_and_every_setting_a_key(service):
    declared = set(SETTINGS[service].keys())
    written = yaml_keys(service)
    assert written - declared == set(), "in config.yaml, not in the settings class"
    assert declared - written == set(), "in the settings class, not in config.yaml"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_the_config_as_shipped_reads_into_typed_settings(service):
    settings = SETTINGS[service].from_config(service_config(service))
    with pytest.raises(FrozenInstanceError):
        settings.max_workers = 1
    assert isinstance(settings.max_workers, int)


def test_values_are_converted_by_their_declared_type():
    settings = ComplaintsSettings.from_config(service_config("complaints") | {
        "COMPLAINT_WARN_DAYS": "7", "RATE_LIMITS_ENABLED": "false",
        "STAFF_TOKEN_SHA256": ["a", "b"], "EVENT_RETRY_DELAYS_MS": ["100", 200]})
    assert settings.COMPLAINT_WARN_DAYS == 7 and settings.RATE_LIMITS_ENABLED is False
    assert settings.STAFF_TOKEN_SHA256 == ("a", "b")
    assert settings.EVENT_RETRY_DELAYS_MS == (100, 200)
    assert MonitoringSettings.from_config(service_config("monitoring") | {
        "STUCK_AFTER_MINUTES": 2}).stuck_after.total_seconds() == 120


def test_the_relay_login_and_tls_settings_keep_their_meaning():
    """An empty user, password or CA file is none (no login, the system's CAs); a raw
    password stays the text it is; STARTTLS reads true/false written as text."""
    relay = NotificationSettings.from_config(service_config("notification") | {
        "SMTP_USER": "", "SMTP_PASSWORD": "0700", "SMTP_CA_FILE": "", "SMTP_STARTTLS": "false",
        "SMTP_PORT": "587"})
    assert (relay.SMTP_USER, relay.SMTP_PASSWORD, relay.SMTP_CA_FILE) == (None, "0700", None)
    assert relay.SMTP_STARTTLS is False and relay.SMTP_PORT == 587


def test_a_missing_key_or_a_value_not_of_its_type_stops_the_start_naming_each():
    config = service_config("complaints")
    del config["COMPLAINT_WARN_DAYS"]
    config["RATE_LIMITS_ENABLED"] = "maybe"
    with pytest.raises(SettingsError) as refused:
        ComplaintsSettings.from_config(config)
    assert set(refused.value.problems) == {"COMPLAINT_WARN_DAYS", "RATE_LIMITS_ENABLED"}


def test_an_optional_setting_is_none_when_empty():
    @dataclass(frozen=True)
    class Optional(Settings):
        CA_FILE: str | None

    assert Optional.from_config({"CA_FILE": None}).CA_FILE is None
    assert Optional.from_config({"CA_FILE": "ca.pem"}).CA_FILE == "ca.pem"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_no_setting_has_a_second_default_in_the_code(service):
    """The one default is config.yaml's: no ``config.get(KEY, default)`` and no timer
    with an interval of its own in the service's code."""
    for path in sorted((REPO_ROOT / "services" / service).glob("*.py")):
        text = path.read_text("utf-8")
        assert "config.get(" not in text, path
        assert not re.search(r'@every\("\w+", ', text), path


def test_booking_caps_go_off_with_the_rate_limits_and_a_cap_of_zero_is_none():
    """The caps on holds and on a day go with the rate limits (the shared test
    stack turns both off); a cap of 0 is no cap."""
    shipped = service_config("booking") | {"RATE_LIMITS_ENABLED": "true"}
    policy = BookingSettings.from_config(shipped | {"MAX_HOLDS_PER_EMAIL": 0}).policy
    assert policy.max_holds_per_email is None and policy.max_holds_per_address
    off = BookingSettings.from_config(shipped | {"RATE_LIMITS_ENABLED": "false"}).policy
    assert (off.max_holds_per_address, off.max_holds_per_email, off.max_holds_per_phone,
            off.max_day_per_address) == (None, None, None, None)
    assert off.max_active_per_id_card == policy.max_active_per_id_card  # a rule, not a cap


def test_the_shared_runtime_reads_a_declared_key_without_a_default_of_its_own():
    """A key some config.yaml declares is read by shared/*.py through
    ``shared.runtime.settings.setting`` (missing: SettingsError naming it), never with
    ``.get(KEY…)``, which would give it a second default in code."""
    declared = set().union(*(yaml_keys(service) for service in SETTINGS))
    found = []
    for path in sorted((REPO_ROOT / "shared").rglob("*.py")):
        text = path.read_text("utf-8")
        found += [f"{path.relative_to(REPO_ROOT)}: {key}" for key in sorted(declared)
                  if re.search(r"""\.get\(\s*["']%s["']""" % re.escape(key), text)]
    assert found == []


def test_a_platform_key_missing_from_the_config_is_named():
    from shared.runtime import queues

    with pytest.raises(SettingsError) as refused:
        queues.stream(service_config("booking") | {"EVENT_STREAM_MAX_BYTES": "lots"})
    assert set(refused.value.problems) == {"EVENT_STREAM_MAX_BYTES"}
    config = service_config("booking")
    del config["EVENT_DELIVERY_LIMIT"]
    with pytest.raises(SettingsError, match="EVENT_DELIVERY_LIMIT: missing"):
        queues.delivery_limit(config)
