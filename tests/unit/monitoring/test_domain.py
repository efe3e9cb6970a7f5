"""The control-report rules (M-3, M-4), pure: given a report's events, when a command,
then events or a refusal."""
from datetime import date, datetime, timedelta

import pytest

from services.monitoring import domain
from services.monitoring.events import CATALOG
from shared.vocabulary.clock import BAKU

DAY = date(2026, 11, 23)
AS_OF = datetime(2026, 11, 24, 0, 45, tzinfo=BAKU)
SUMMARY = {"code_email_not_delivered": 1, "order_code_email_not_delivered": 0,
           "emails_failed": 1, "complaints_overdue": 0, "dead_letters": 0}
BODY = {"day": DAY.isoformat(), "failures": {
    "summary": SUMMARY,
    "code_email_not_delivered": [{"booking_id": "7f1c0c3e-5b8e-4a53-9d4a-0f6c1f1e2a01"}]}}
REPORT_ID = "0b9a3b9e-2f7e-4c52-8f55-1d7e2a6b9c10"


def keep(given, trigger="daily", report_id=REPORT_ID, centre=None, service=None):
    """When the report is kept on a stream holding ``given``."""
    return domain.decide_keep(domain.fold(given), report_id, DAY, trigger, centre, service,
                              AS_OF, BODY)


def test_m4_a_daily_report_not_kept_yet_is_announced_and_kept():
    events = keep(given=[])
    assert [name for name, _ in events] == ["ControlReportGenerated", "ControlReportKept"]
    announced, kept = (data for _, data in events)
    assert announced == {"report_id": REPORT_ID, "day": "2026-11-23", "trigger": "daily",
                         "centre": None, "service": None, "as_of": AS_OF.isoformat(),
                         "failures": SUMMARY, "href": f"/reports/{REPORT_ID}"}
    assert kept == {key: announced[key] for key in
                    ("report_id", "day", "trigger", "centre", "service", "as_of")} | {
        "report": BODY}
    for name, data in events:  # what the decider returns is what the catalogue stores
        assert CATALOG.normalized(name, data) == data


def test_m4_the_daily_report_of_a_day_is_kept_once():
    given = keep(given=[])
    with pytest.raises(domain.ReportAlreadyKept):
        keep(given=given, report_id="5d2e1a4c-0c55-4f0b-9a61-3b8c2d7e6f11")


def test_m4_the_announcement_carries_counts_only_and_the_body_stays_private():
    """M-3's failure lists name bookings: they ride only in the private event."""
    announced, kept = keep(given=[], trigger="on_demand", centre="baku-1")
    assert "7f1c0c3e" not in str(CATALOG.public_data(*announced))
    assert CATALOG.public_data(*kept) is None
    assert announced.centre == "baku-1" and announced.trigger == "on_demand"


def test_m4_a_report_on_demand_has_a_stream_of_its_own_a_daily_one_its_day():
    assert domain.stream_of("on_demand", DAY, REPORT_ID) == f"report-{REPORT_ID}"
    assert domain.stream_of("daily", DAY, REPORT_ID) == "daily-report-2026-11-23"


def test_m4_the_fold_says_which_report_a_stream_holds_and_its_version():
    state = domain.fold(keep(given=[]))
    assert (state.kept, state.report_id, state.day, state.trigger, state.version) == (
        True, REPORT_ID, "2026-11-23", "daily", 2)
    assert not domain.fold([]).kept and domain.fold([]).version == 0


@pytest.mark.parametrize("now, due", [
    (datetime(2026, 11, 24, 0, 29, tzinfo=BAKU), None),  # late events may still come
    (datetime(2026, 11, 24, 0, 30, tzinfo=BAKU), date(2026, 11, 23)),
    (datetime(2026, 11, 24, 23, 59, tzinfo=BAKU), date(2026, 11, 23)),
])
def test_m4_yesterdays_daily_report_is_due_once_midnight_is_past_by_the_delay(now, due):
    assert domain.daily_report_due(now, timedelta(minutes=30)) == due


def test_m4_an_unknown_trigger_is_a_programming_error():
    with pytest.raises(ValueError):
        keep(given=[], trigger="weekly")
