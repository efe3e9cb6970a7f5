"""Secrets never reach a log line (non-negotiable 5) — no servers needed."""
from shared.logs import MASK, redact


def test_codes_and_personal_data_are_masked_whatever_the_caller_passes():
    line = redact(None, "info", {"event": "booking confirmed", "order_code": "K7M2QX",
                                 "confirmation_code": "123456", "fin": "5ABC7D1",
                                 "Email": "a@b.az", "booking_id": "b-1"})
    assert line["order_code"] == line["confirmation_code"] == line["fin"] == MASK
    assert line["Email"] == MASK
    assert line["booking_id"] == "b-1"
