"""Q-10: the booking is free of charge, asks for no documents, and is open to natural
persons. What that means for the published API (booking's OpenAPI document, the one
``GET /openapi.json`` serves) and for the citizen pages:

* **free**: no route a citizen uses asks for or answers a fee, a price, a payment or
  anything to pay with;
* **no documents**: the form is the annex's fields and nothing else (the ID card is
  its series and number, typed, never a scan); every citizen body is JSON with no
  room for more (``additionalProperties: false``), no upload (no multipart, no file);
  the pages have no file input;
* **open to natural persons**: a person is who the annex names (name, surname,
  patronymic, ID card); no citizen route needs an account, a login or a token — only
  staff routes (``/admin/…``, ``/operator/…``) declare the one security scheme — and
  no page asks a citizen for a password.

The real ``POST /bookings`` answers the same: tests/e2e/booking/test_free_and_open.py.
"""
import re
from pathlib import Path

from services.booking import api

SPEC = api.spec()
STAFF = ("/admin/", "/operator/")
# The annex of seed 000: every field of the form (the confirmation code comes second).
ANNEX = {"name", "surname", "patronymic", "id_card", "phone", "email", "service", "centre",
         "date", "time"}
# Optional, with defaults, nothing the citizen must bring: the language of the emails
# and where the form was filled in (M-1).
OPTIONAL = {"language", "channel"}
# Words of a fee, a payment, an upload or an account, in either language of the API.
NOT_FREE_OR_OPEN = re.compile(
    r"fee|price|pay|amount|currency|tariff|charge|card_number|iban|upload|file|attach|scan|"
    r"document|account|password|login|username|session|haqq|ödəniş|sənəd|fayl", re.IGNORECASE)
TEMPLATES = Path(api.__file__).resolve().parents[1] / "web" / "templates"


def citizen_operations():
    """(method, path, operation) of every route that is not staff's."""
    return [(method, path, operation) for path, item in SPEC["paths"].items()
            if not path.startswith(STAFF)
            for method, operation in item.items() if isinstance(operation, dict)]


def schemas_of(node, seen=None):
    """Every schema object reachable from ``node``, following ``$ref``s."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from schemas_of(SPEC["components"]["schemas"][name], seen)
            return
        yield node
        for value in node.values():
            yield from schemas_of(value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_of(value, seen)


def field_names(node):
    return {name for schema in schemas_of(node) if isinstance(schema.get("properties"), dict)
            for name in schema["properties"]}


def test_q10_the_form_is_the_annex_and_has_no_room_for_a_fee_or_a_document():
    body = SPEC["components"]["schemas"]["BookingRequest"]
    assert set(body["properties"]) == ANNEX | OPTIONAL
    assert set(body["required"]) == ANNEX
    assert all("default" in body["properties"][name] for name in OPTIONAL)
    assert body["additionalProperties"] is False
    confirm = SPEC["paths"]["/bookings/{booking_id}/confirm"]["post"]["requestBody"]
    assert field_names(confirm) == {"code"}


def test_q10_no_citizen_route_asks_for_or_answers_a_fee_a_payment_or_an_upload():
    operations = citizen_operations()
    assert {path for _, path, _ in operations} >= {"/bookings", "/bookings/{booking_id}/confirm"}
    for method, path, operation in operations:
        names = field_names(operation.get("requestBody", {})) | \
            field_names(operation.get("responses", {})) | \
            {p["name"] for p in operation.get("parameters", [])}
        assert not [n for n in names if NOT_FREE_OR_OPEN.search(n)], (method, path)
        for content_type in operation.get("requestBody", {}).get("content", {}):
            assert content_type == "application/json", (method, path)  # no upload
        for schema in schemas_of(operation.get("requestBody", {})):
            assert schema.get("format") not in ("binary", "byte"), (method, path)
            if "properties" in schema:
                assert schema.get("additionalProperties") is False, (method, path)


def test_q10_no_citizen_route_needs_an_account_only_staff_routes_declare_security():
    assert "security" not in SPEC  # nothing is closed by default
    for method, path, operation in citizen_operations():
        assert not operation.get("security"), (method, path)
        assert not [p for p in operation.get("parameters", [])
                    if p["in"] in ("header", "cookie")], (method, path)
    secured = {path for path, item in SPEC["paths"].items()
               for operation in item.values()
               if isinstance(operation, dict) and operation.get("security")}
    assert secured and all(path.startswith(STAFF) for path in secured)


def test_q10_the_citizen_pages_ask_for_no_file_and_no_password():
    """The counter's sign-in (``counter*.html``) is staff's, not a citizen's."""
    pages = [page for page in TEMPLATES.glob("*.html") if not page.name.startswith("counter")]
    assert {"booking.html", "booking_code.html"} <= {page.name for page in pages}
    for page in pages:
        html = page.read_text("utf-8").lower()
        assert 'type="file"' not in html and "multipart/form-data" not in html, page.name
        assert 'type="password"' not in html, page.name
