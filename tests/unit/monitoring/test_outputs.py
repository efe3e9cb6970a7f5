"""M-4: the CSV and the HTML page are made from the JSON report and say the same."""
import csv
import io

from services.monitoring import outputs

REPORT = {
    "day": "2026-11-24", "as_of": "2026-11-24T20:00:00+04:00",
    "filters": {"centre": None, "service": None}, "stuck_after_minutes": 10.0,
    "receipt": {"booking_requests": {"total": 3, "by_channel": {"api": 3},
                                     "by_hour": {"10": {"api": 2}, "14": {"api": 1}}}},
    "response_times": {"fin_lookup": {"count": 2, "p50": 1.5, "p95": 2.0, "p99": 2.0,
                                      "max": 2.0, "unit": "ms"}},
    "funnel": {"visits": {"requested": 3, "confirmed": 2, "activated": 1, "lapsed": 1,
                          "cancelled": 0, "voided": 0, "hold_expired": 0,
                          "awaiting_visit": 0, "cancelled_by": {}},
               "refused": {"total": 1, "by_reason": {"required": 1}}},
    "by_centre_service": [{"centre": "baku-1", "service": "passport", "requested": 3}],
    "failures": {"summary": {"code_email_not_delivered": 1, "order_code_email_not_delivered": 0,
                             "emails_failed": 0, "complaints_overdue": 0, "dead_letters": 0},
                 "code_email_not_delivered": [{"booking_id": "b-1", "centre": "baku-1",
                                               "service": "passport", "since": "x",
                                               "state": "not_sent", "delivered_after_s": None}],
                 "order_code_email_not_delivered": [], "emails_failed": [],
                 "complaints_overdue": [], "dead_letters": []},
    "fin_queries": {"total": 2, "by_outcome": {"found": 2}, "by_method": {"id_card": 2}},
    "complaints": {"received": 0, "received_by_channel": {}, "answered": 0,
                   "answered_by_decision": {}, "answered_late": 0, "withdrawn": 0,
                   "became_overdue": 0},
    "kiosks": {"tickets_issued": 1, "tickets_by_series": {"booked": 1},
               "activations_refused": 0, "activations_refused_by_reason": {}},
}


def test_m4_csv_has_one_row_per_figure_with_dotted_names():
    rows = list(csv.reader(io.StringIO(outputs.to_csv(REPORT))))
    assert rows[0] == ["metric", "value"]
    values = dict(rows[1:])
    assert values["receipt.booking_requests.by_hour.10.api"] == "2"
    assert values["funnel.visits.lapsed"] == "1"
    assert values["by_centre_service[0].centre"] == "baku-1"
    assert values["failures.code_email_not_delivered[0].delivered_after_s"] == ""
    assert len(rows) - 1 == len(outputs.flatten(REPORT))


def test_m4_html_page_has_charts_tables_and_the_stuck_booking():
    page = outputs.to_html(REPORT, report_id="r-1")
    assert page.startswith("<!doctype html>") or "<!doctype html>" in page
    assert page.count("<svg") >= 5
    assert "requested: 3; confirmed: 2; activated: 1" in page  # the chart's text equivalent
    assert "b-1" in page and "not_sent" in page and "r-1" in page
    assert '<html lang="az">' in page


def test_bars_scale_to_the_largest_value():
    assert outputs.bars({"a": 5, "b": 10, "c": 0}) == [("a", 5, 50.0), ("b", 10, 100.0),
                                                        ("c", 0, 0.0)]
    assert outputs.bars({}) == []
    assert [label for label, _, _ in outputs.hourly({"09": {"api": 1}})][:3] == ["00", "01", "02"]
