"""Secrets never reach a log line (non-negotiable 5) — no servers needed."""
from shared.runtime.logs import MASK, redact


def test_codes_and_personal_data_are_masked_whatever_the_caller_passes():
    line = redact(None, "info", {"event": "booking confirmed", "order_code": "K7M2QX",
                                 "confirmation_code": "123456", "fin": "5ABC7D1",
                                 "Email": "a@b.az", "booking_id": "b-1"})
    assert line["order_code"] == line["confirmation_code"] == line["fin"] == MASK
    assert line["Email"] == MASK
    assert line["booking_id"] == "b-1"


def test_the_shapes_of_personal_data_are_masked_in_any_text_of_a_line():
    """A database error quoting a value, or a careless message, is caught too."""
    line = redact(None, "error", {
        "event": "insert failed: Key (id_card)=(AZE12345678) for leyla@bakı.az",
        "exception": "DETAIL: Key (fin)=(5ABC7D1) phone +994 50 123 45 67, code 042517",
        "nested": {"why": ["call 0501234567"]}, "timestamp": "2026-11-29T21:27:48.537693Z"})
    text = repr(line)
    for secret in ("AZE12345678", "leyla@", "5ABC7D1", "123 45 67", "042517", "0501234567"):
        assert secret not in text
    assert line["timestamp"] == "2026-11-29T21:27:48.537693Z"


def test_what_is_not_personal_data_is_left_alone():
    kept = {"event": "request", "route": "/bookings/{booking_id}/confirm", "ms": 58.7,
            "correlation_id": "6d3f6b8e-6f55-4ad6-8a2b-6c0e9a7b1e44", "status": "409",
            "note": "REQUESTS BOOKING at 2026-11-29T21:27:48.537693Z"}
    assert redact(None, "info", dict(kept)) == kept


def test_identifiers_are_masked_in_any_case_and_any_script():
    """The platform reads them so (shared.vocabulary.identity); an attacker typed them so into a
    form field that ended up in a log message."""
    line = redact(None, "warning", {"event": "GET /centres/../../metrics?aze19300792 "
                                             "AZE١٩٣٠٠٧٩٢ 0bpbbyd (050) 123-45-67 ١٢٣٤٥٦ x#"})
    assert line["event"] == "GET /centres/../../metrics?*** *** *** *** *** x#"
