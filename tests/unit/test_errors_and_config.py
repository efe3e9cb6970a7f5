"""Refusals in two languages (Q-5) and the one config loader — no servers needed."""
import pytest
from marshmallow import Schema, ValidationError, fields, validates

from shared.runtime.config import load_config, service_config
from shared.vocabulary.errors import Text, ValidationFailed, reasons_from_marshmallow


class Form(Schema):
    name = fields.String(required=True)
    email = fields.Email(required=True)
    day = fields.Date(required=True)

    @validates("name")
    def name_has_letters(self, value, **_):
        if not value.strip():
            raise ValidationError(Text("empty", "Ad boş ola bilməz.", "The name is empty."))


def test_every_reason_is_given_at_once_in_both_languages():
    try:
        Form().load({"name": " ", "email": "nope", "extra": 1})
    except ValidationError as error:
        reasons = reasons_from_marshmallow(error.messages)
    by_field = {reason.field: reason for reason in reasons}
    assert set(by_field) == {"name", "email", "day", "extra"}
    assert by_field["name"].az == "Ad boş ola bilməz." and by_field["name"].code == "empty"
    assert by_field["email"].code == "invalid_email" and by_field["email"].az
    assert by_field["day"].code == "required"
    assert by_field["extra"].code == "unknown_field"
    assert all(reason.az and reason.en for reason in reasons)


def test_a_refusal_renders_the_one_error_format():
    body = ValidationFailed(reasons_from_marshmallow({"email": ["Not a valid email address."]}))\
        .as_dict()
    assert body["error"] == "validation_failed"
    assert set(body["message"]) == {"az", "en"}
    assert body["reasons"] == [{"field": "email", "code": "invalid_email",
                                "az": "E-poçt ünvanı düzgün deyil.",
                                "en": "Not a valid email address."}]


def test_config_values_come_from_the_environment_with_defaults(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("A: ${ASAN_TEST_A:fallback}\nB: ${ASAN_TEST_B:7}\n"
                    "C: !env_var \"${ASAN_TEST_C:[1, 2]}\"\n")
    monkeypatch.delenv("ASAN_TEST_A", raising=False)
    monkeypatch.setenv("ASAN_TEST_B", "9")
    assert load_config(path) == {"A": "fallback", "B": 9, "C": [1, 2]}


SECRET_SETTINGS = {  # service → {setting: the environment variable it is read from}
    "booking": {"BOOKING_CODE_KEY": "BOOKING_CODE_KEY"},
    "notification": {"SMTP_USER": "SMTP_USER", "SMTP_PASSWORD": "SMTP_PASSWORD"},
    "web": {"WEB_CSRF_SECRET": "WEB_CSRF_SECRET", "FRONTEND_TOKEN": "WEB_FRONTEND_TOKEN"},
}


@pytest.mark.parametrize("service", sorted(SECRET_SETTINGS))
def test_a_secret_is_taken_as_it_is_whatever_characters_it_has(service, monkeypatch):
    """A secret from the environment is a string exactly as given: YAML would read
    ``0700`` as the number 448, ``yes`` as true and cut ``a #b`` at the ``#``."""
    awkward = {"0700", "yes", "a #b: *&!{[", "null"}
    for value in awkward:
        for variable in SECRET_SETTINGS[service].values():
            monkeypatch.setenv(variable, value)
        config = service_config(service)
        assert {setting: config[setting] for setting in SECRET_SETTINGS[service]} == \
            dict.fromkeys(SECRET_SETTINGS[service], value)
