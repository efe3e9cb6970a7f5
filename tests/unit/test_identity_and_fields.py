"""Issue 12: one canonical form for every identifier and date a person types
(shared.vocabulary.identity), read by the same marshmallow fields in every schema
(shared.vocabulary.fields). Q-5 (the form's ID card and phone), Q-3/Q-6 (the confirmation code),
Q-4/Q-7 (the order code), F-1 (the ID card), F-2 (the birth date)."""
import importlib
from datetime import date, datetime, timezone

import pytest
from marshmallow import Schema, ValidationError

from shared.vocabulary import fields as asan
from shared.vocabulary import identity
from shared.vocabulary.errors import reasons_from_marshmallow

ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"           # U+0660…: phones set to Arabic
EXTENDED_ARABIC_INDIC = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0…: Persian and Urdu keyboards
FULL_WIDTH = "０１２３４５６７８９"     # U+FF10…: East-Asian input methods
DEVANAGARI = "०१२३४५६७८९"             # U+0966…
SCRIPTS = [ARABIC_INDIC, EXTENDED_ARABIC_INDIC, FULL_WIDTH, DEVANAGARI]


def spelled(text, digits):
    """``text`` with its ASCII digits written in another script."""
    return "".join(digits[int(char)] if char.isascii() and char.isdigit() else char
                   for char in text)


@pytest.mark.parametrize("digits", SCRIPTS)
def test_issue12_every_scripts_digits_become_ascii(digits):
    assert identity.ascii_digits(digits) == "0123456789"
    assert identity.ascii_digits(spelled("AZE 1234-5678", digits)) == "AZE 1234-5678"


def test_issue12_nfkc_compatibility_forms_become_their_plain_letters_and_digits():
    assert identity.ascii_digits("ＡＺＥ１２") == "AZE12"  # full-width letters and digits
    assert identity.ascii_digits("\U0001d7ce\U0001d7cf") == "01"  # mathematical bold digits
    assert identity.ascii_digits("AZE\u00a01") == "AZE 1"  # no-break space


# --- ID card (Q-5, F-1) ----------------------------------------------------------

@pytest.mark.parametrize("digits", SCRIPTS)
def test_q5_f1_an_id_card_in_any_script_is_one_card(digits):
    assert identity.canonical_id_card(spelled("AZE12345678", digits)) == "AZE12345678"
    assert identity.canonical_id_card(spelled("aa 123-4567", digits)) == "AA1234567"


@pytest.mark.parametrize("raw, canonical", [
    ("AZE12345678", "AZE12345678"), ("aze 1234 5678", "AZE12345678"),
    ("AZE-1234-5678", "AZE12345678"), ("AZE\u20131234\u20135678", "AZE12345678"),  # en dash
    ("ＡＺＥ１２３４５６７８", "AZE12345678"), (" AA1234567 ", "AA1234567")])
def test_q5_id_card_series_and_number(raw, canonical):
    assert identity.canonical_id_card(raw) == canonical


@pytest.mark.parametrize("raw", ["AZE1234567", "AZE123456789", "AA12345678", "AB1234567",
                                 "12345678", "AZE1234567x", "", "AZE1234\u200b5678"])
def test_q5_malformed_id_cards_are_refused(raw):
    assert identity.canonical_id_card(raw) is None


def test_q5_the_patterns_are_ascii_only():
    """``\\d`` matches every script's digits; the patterns must not."""
    for pattern in (identity.ID_CARD_RE, identity.FIN_RE, identity.CONFIRMATION_CODE_RE,
                    identity.ORDER_CODE_RE, identity.ISO_DATE_RE, identity.DOTTED_DATE_RE):
        assert "\\d" not in pattern.pattern
    assert not identity.ID_CARD_RE.fullmatch("AZE" + ARABIC_INDIC[:8])


# --- FIN, codes, phone -----------------------------------------------------------

@pytest.mark.parametrize("raw, canonical", [("5ab2c7d", "5AB2C7D"), (" 5AB 2C7D", "5AB2C7D"),
                                            (spelled("5AB2C7D", ARABIC_INDIC), "5AB2C7D")])
def test_f3_fins(raw, canonical):
    assert identity.canonical_fin(raw) == canonical


@pytest.mark.parametrize("raw", ["IIIIIII", "5AB2C7O", "5AB2C7", "5AB2C7DD", "5ABıC7D"])
def test_f3_malformed_fins(raw):
    assert identity.canonical_fin(raw) is None


@pytest.mark.parametrize("digits", SCRIPTS)
def test_q3_the_confirmation_code_in_any_script(digits):
    assert identity.canonical_confirmation_code(spelled("042517", digits)) == "042517"
    assert identity.canonical_confirmation_code(" 042 517 ") == "042517"


@pytest.mark.parametrize("raw", ["12345x", "1234567", "12345", "", "٠٤٢٥١٧x"])
def test_q6_a_malformed_confirmation_code_is_no_code(raw):
    assert identity.canonical_confirmation_code(raw) is None


@pytest.mark.parametrize("raw", ["K7M2-QX4P", "k7m2qx4p", " K7M2 QX4P ", "Ｋ７Ｍ２－ＱＸ４Ｐ",
                                 spelled("K7M2-QX4P", EXTENDED_ARABIC_INDIC)])
def test_q7_order_codes(raw):
    assert identity.canonical_order_code(raw) == "K7M2QX4P"


@pytest.mark.parametrize("raw", ["K7M2-QX40", "K7M2-QX4I", "K7M2-QX4", "K7M2-QX4PP", "WRNG-001",
                                 "K7M2-QX4ı"])
def test_q7_malformed_order_codes(raw):
    assert identity.canonical_order_code(raw) is None


@pytest.mark.parametrize("raw", ["050 123 45 67", "+994 50 123 45 67", "(012) 493 12 34",
                                 "0551234567", spelled("+994 50 123 45 67", ARABIC_INDIC),
                                 spelled("050 123 45 67", DEVANAGARI),
                                 "＋９９４５０１２３４５６７"])
def test_q5_azerbaijani_phones_are_e164(raw):
    assert identity.canonical_phone(raw).startswith("+994")
    assert identity.canonical_phone(raw).isascii()


@pytest.mark.parametrize("raw", ["123", "+7 912 345 67 89", "phone", "+994 12"])
def test_q5_phones_that_are_not_azerbaijani_numbers_are_refused(raw):
    assert identity.canonical_phone(raw) is None


# --- dates -----------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["2026-12-15", "15.12.2026", " 15.12.2026 ", "\t2026-12-15 ",
                                 spelled("15.12.2026", ARABIC_INDIC), "１５.１２.２０２６"])
def test_issue12_dates_iso_or_as_written_in_azerbaijan(raw):
    assert identity.canonical_date(raw) == date(2026, 12, 15)


def test_issue12_a_day_or_month_of_one_digit():
    assert identity.canonical_date("5.3.2026") == date(2026, 3, 5)


@pytest.mark.parametrize("raw", ["31.02.2027", "2026-13-01", "2026-02-30", "12/15/2026",
                                 "20261215", "2026-W50-2", "15.12.26", "0000-01-01", "", None,
                                 20261215])
def test_issue12_not_dates(raw):
    assert identity.canonical_date(raw) is None


# --- the fields ------------------------------------------------------------------

class Form(Schema):
    id_card = asan.IdCard()
    fin = asan.Fin()
    code = asan.ConfirmationCode()
    order_code = asan.OrderCode()
    phone = asan.Phone()
    day = asan.Date()
    born = asan.Date(earliest=date(1900, 1, 1), latest=date(2026, 12, 31))
    at = asan.AwareDateTime()
    minutes = asan.Integer(minimum=1, maximum=10080)
    count = asan.Integer()


def refused(**data):
    """``{field: code}`` of the reasons the form gives for ``data``."""
    try:
        Form().load(data)
    except ValidationError as error:
        return {r.field: r.code for r in reasons_from_marshmallow(error.messages)}
    return {}


def test_issue12_the_fields_load_the_canonical_forms():
    loaded = Form().load({"id_card": spelled("aze 1234 5678", FULL_WIDTH), "fin": "5ab2c7d",
                          "code": spelled("042517", ARABIC_INDIC), "order_code": "k7m2-qx4p",
                          "phone": "050 123 45 67", "day": " 15.12.2026 ",
                          "at": "2026-12-15T10:00:00+04:00", "minutes": "٣٠", "count": 7})
    assert loaded == {"id_card": "AZE12345678", "fin": "5AB2C7D", "code": "042517",
                      "order_code": "K7M2QX4P", "phone": "+994501234567",
                      "day": date(2026, 12, 15),
                      "at": datetime(2026, 12, 15, 6, tzinfo=timezone.utc), "minutes": 30,
                      "count": 7}


def test_issue12_each_field_refuses_with_its_format_reason_in_both_languages():
    assert refused(id_card="AZE123", fin="IIIIIII", code="12345x", order_code="WRNG-001",
                   phone="123", day="31.02.2027") == {
        "id_card": "id_card_format", "fin": "fin_format", "code": "code_format",
        "order_code": "order_code_format", "phone": "phone", "day": "invalid_date"}
    try:
        Form().load({"day": "2026-13-01"})
    except ValidationError as error:
        [reason] = reasons_from_marshmallow(error.messages)
    assert reason.az == "Tarix düzgün deyil (İİİİ-AA-GG və ya GG.AA.İİİİ)."
    assert reason.en == "Not a valid date (YYYY-MM-DD or DD.MM.YYYY)."


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "31.12.9999", "1899-12-31",
                                 "2101-01-01"])
def test_issue12_dates_out_of_range_are_refused_not_overflowed(day):
    assert refused(day=day) == {"day": "out_of_range"}


def test_issue12_a_field_may_narrow_its_range():
    assert refused(born="2026-12-31") == {}
    assert refused(born="2027-01-01") == {"born": "out_of_range"}


@pytest.mark.parametrize("moment, code", [
    ("9999-12-31T23:59:59-14:00", "out_of_range"), ("0001-01-01T00:00:00+14:00", "out_of_range"),
    ("2026-12-15T10:00:00", "invalid_datetime"), ("soon", "invalid_datetime"),
    (12, "invalid_datetime")])
def test_issue12_instants_are_aware_and_bounded(moment, code):
    assert refused(at=moment) == {"at": code}


@pytest.mark.parametrize("value, code", [
    (0, "out_of_range"), (10081, "out_of_range"), ("1" * 5000, "out_of_range"),
    (10.5, "invalid_type"), ("1_000", "invalid_type"), ("1e3", "invalid_type"),
    (True, "invalid_type"), ("", "invalid_type")])
def test_issue12_integers_are_whole_and_bounded(value, code):
    assert refused(minutes=value) == {"minutes": code}


def test_issue12_the_default_integer_range_is_a_postgresql_integer():
    assert refused(count=2 ** 31 - 1) == {} and refused(count=-2 ** 31) == {}
    assert refused(count=2 ** 31) == {"count": "out_of_range"}
    assert refused(count=10.0) == {}


def test_issue12_ranges_are_documented_in_openapi():
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Form", schema=Form)
    properties = spec.to_dict()["components"]["schemas"]["Form"]["properties"]
    assert (properties["minutes"]["minimum"], properties["minutes"]["maximum"]) == (1, 10080)
    assert properties["day"]["x-maximum"] == "2100-12-31"
    assert "DD.MM.YYYY" in properties["day"]["description"]


# --- every request schema of every service reads dates and numbers one way -----------

def _request_fields():
    """(service, schema, field name, field) of every request body and query schema in
    the services' OpenAPI routes, nested schemas included."""
    from marshmallow import fields as mm

    from shared.runtime.config import SERVICES

    found = []

    def walk(service, schema_class):
        for name, field in schema_class._declared_fields.items():
            found.append((service, schema_class.__name__, name, field))
            if isinstance(field, mm.Nested):
                walk(service, field.nested)

    for service in SERVICES:  # every service has an API module: one missing is an error
        api = importlib.import_module(f"services.{service}.api")
        for route in api.ROUTES:
            for schema_class in (route.request, route.query):
                if schema_class is not None:
                    walk(service, schema_class)
    return found


def test_issue12_request_dates_and_numbers_are_bounded_fields_of_shared_fields():
    from marshmallow import fields as mm

    unbounded = [(service, schema, name) for service, schema, name, field in _request_fields()
                 if isinstance(field, (mm.Date, mm.DateTime, mm.Number, mm.TimeDelta))
                 and not isinstance(field, (asan.Date, asan.AwareDateTime, asan.Integer))]
    assert unbounded == []
    # What was checked, so that a walk finding nothing (a renamed attribute, a module
    # skipped) cannot pass: a new date or number field is added here deliberately.
    checked = sorted((service, schema, name) for service, schema, name, field
                     in _request_fields() if isinstance(field, (mm.Date, mm.DateTime,
                                                               mm.Number, mm.TimeDelta)))
    assert checked == [
        ("booking", "BookingRequestSchema", "date"), ("booking", "ClosureSchema", "date"),
        ("booking", "RescheduleSchema", "date"), ("booking", "ResendOrderCodeSchema", "date"),
        ("booking", "SlotQuerySchema", "date"),
        ("complaints", "PaperComplaintBody", "received_on"),
        ("monitoring", "GenerateBody", "day"),
        ("monitoring", "GenerateBody", "stuck_after_minutes"),
        ("monitoring", "ListQuery", "day"), ("monitoring", "ReportQuery", "as_of"),
        ("monitoring", "ReportQuery", "day"),
        ("monitoring", "ReportQuery", "stuck_after_minutes"),
        ("registry", "CardBody", "expires_on"), ("registry", "CardBody", "issued_on"),
        ("registry", "NameQuery", "birth_date"), ("registry", "PersonBody", "birth_date")]


def test_issue12_request_identifiers_are_read_by_shared_fields():
    named = {"id_card": asan.IdCard, "series_number": asan.IdCard, "fin": asan.Fin,
             "code": asan.ConfirmationCode, "order_code": asan.OrderCode, "phone": asan.Phone}
    wrong = [(service, schema, name) for service, schema, name, field in _request_fields()
             if name in named and not isinstance(field, named[name])]
    assert wrong == []


@pytest.mark.parametrize("schema, body, field", [
    ("services.monitoring.api:ReportQuery", {"day": "9999-12-31"}, "day"),
    ("services.monitoring.api:ReportQuery", {"day": "2026-11-23", "as_of": "9999-12-31T23:59:59"
                                             "+00:00"}, "as_of"),
    ("services.monitoring.api:ReportQuery", {"day": "2026-11-23",
                                             "stuck_after_minutes": "99999999999"},
     "stuck_after_minutes"),
    ("services.monitoring.api:GenerateBody", {"day": "0001-01-01"}, "day"),
    ("services.monitoring.api:ListQuery", {"day": "31.12.9999"}, "day"),
    ("services.complaints.api:PaperComplaintBody", {"received_on": "9999-12-31"}, "received_on"),
    ("services.registry.api:PersonBody", {"birth_date": "0001-01-01"}, "birth_date"),
])
def test_issue12_dates_and_numbers_where_arithmetic_follows_are_bounded(schema, body, field):
    module, name = schema.split(":")
    try:
        getattr(importlib.import_module(module), name)().load(body)
    except ValidationError as error:
        reasons = {r.field: r.code for r in reasons_from_marshmallow(error.messages)}
    assert reasons[field] == "out_of_range"


def test_issue12_dd_mm_yyyy_in_the_staff_schemas_too():
    from services.complaints.api import PaperComplaintBody
    from services.monitoring.api import ReportQuery

    assert ReportQuery().load({"day": "23.11.2026"})["day"] == date(2026, 11, 23)
    loaded = PaperComplaintBody().load({
        "service": "queue_booking", "text": "…", "received_on": " 20.01.2026",
        "scan_reference": "scan/1.pdf"})
    assert loaded["received_on"] == date(2026, 1, 20)
