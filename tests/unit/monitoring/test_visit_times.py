"""Issue 17 §3: the waiting and service times of the control report — count, mean,
median and p90 (nearest rank), deterministic whatever the order of the samples — and
their table and charts on the report's page."""
from services.monitoring import outputs
from services.monitoring.report import time_figures
from tests import chance
from tests.unit.monitoring.test_outputs import REPORT


def test_i17_no_samples_no_figures():
    assert time_figures([]) == {"count": 0, "mean": None, "median": None, "p90": None,
                                "max": None}


def test_i17_one_sample_is_every_figure():
    assert time_figures([90]) == {"count": 1, "mean": 90.0, "median": 90.0, "p90": 90.0,
                                  "max": 90.0}


def test_i17_the_median_and_p90_are_times_someone_waited_nearest_rank():
    # Ten waits of 1..10 minutes: the median is the 5th (lower middle), p90 the 9th.
    figures = time_figures([60 * n for n in range(1, 11)])
    assert figures == {"count": 10, "mean": 330.0, "median": 300.0, "p90": 540.0,
                       "max": 600.0}
    # 30 samples: p90 is the 27th (a float 0.9 * 30 would round up to the 28th).
    assert time_figures(range(1, 31))["p90"] == 27.0
    assert time_figures([1, 2, 3])["median"] == 2.0


def test_i17_the_figures_do_not_depend_on_the_order_of_the_samples():
    rng = chance.rng()
    samples = [rng.uniform(0, 7200) for _ in range(997)]
    expected = time_figures(samples)
    for _ in range(5):
        rng.shuffle(samples)
        assert time_figures(samples) == expected  # the rebuild's report is byte-equal


def _times(rows):
    return {"all": time_figures([]), "by_centre_service": rows}


def test_i17_the_page_shows_the_times_table_and_charts_and_the_ticket_funnel():
    waiting = {"centre": "baku-1", "service": "passport", "count": 2, "mean": 450.0,
               "median": 300.0, "p90": 600.0, "max": 600.0}
    report = REPORT | {
        "funnel": REPORT["funnel"] | {"tickets": {
            "issued": 4, "called": 3, "transferred": 1, "served": 2, "no_show": 1,
            "not_called": 1}},
        "visit_times": {"unit": "s", "waiting": _times([waiting]), "service": _times([])},
        "tickets_by_centre_service": [{"centre": "baku-1", "service": "passport",
                                       "issued": 4, "called": 3, "transferred": 1,
                                       "served": 2, "no_show": 1, "not_called": 1}],
        "visit_changes": {
            "closures": [{"closure_id": "c-1", "centre": "baku-2", "service": None,
                          "reason": "power_outage", "cancelled": 3,
                          "closed_at": "2026-11-23T18:00:00+04:00"}],
            "bookings_cancelled_by_closures": 3,
            "reschedules": {"made": 1, "moved_to_day": 2, "moved_from_day": 0},
            "reminders": {"sent": 5, "for_day": 4}},
    }
    page = outputs.to_html(report)
    assert "no_show: 1" in page and "served: 2" in page  # the funnel chart
    assert "baku-1 / passport: 5.0 min" in page  # the median waiting, in minutes
    assert "baku-1 / passport: 10.0 min" in page  # its p90
    assert "<td>450.0</td>" in page  # the mean, in the table (seconds)
    assert "power_outage" in page and "moved_to_day: 2" in page and "sent: 5" in page
    assert "<td>bütün mərkəz / whole centre</td>" in page  # a closure of the whole centre
    rows = dict(line.split(",", 1) for line in outputs.to_csv(report).splitlines()[1:])
    assert rows["visit_times.waiting.by_centre_service[0].p90"] == "600.0"
    assert rows["visit_changes.closures[0].reason"] == "power_outage"


def test_i17_a_report_kept_before_the_times_existed_still_renders():
    assert "Tickets of this day" not in outputs.to_html(REPORT)
