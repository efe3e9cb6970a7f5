"""Non-negotiable 5: every rule that counts days or hours counts them in Baku, from the
service's clock. Each rule runs at two instants of the same Baku day, 8 December 2026:

* 23:30 UTC on the 7th, which is 03:30 on the 8th in Baku;
* 00:30 Baku on the 8th, which is 20:30 UTC on the 7th.

At both the machine's UTC date is the 7th: a rule that took the UTC day (or the
machine's ``date.today()``) answers differently from Baku's, and fails here.
"""
import inspect
import re
from dataclasses import replace
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from services.booking import domain as booking
from services.booking.reference import ReferenceData
from services.complaints import domain as complaints
from services.complaints.events import ComplaintFiled
from services.kiosk_gateway import domain as kiosk
from services.registry.schemas import NameQuery
from shared.vocabulary.clock import BAKU, baku_today, validating_on
from shared.runtime.config import REPO_ROOT
from tests.unit.booking.fakes import SHIPPED

LATE_UTC = datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc)      # Baku: 8th, 03:30
EARLY_BAKU = datetime(2026, 12, 8, 0, 30, tzinfo=BAKU)              # UTC: 7th, 20:30
BOTH_SIDES = pytest.mark.parametrize("now", [LATE_UTC, EARLY_BAKU], ids=["23:30UTC", "00:30Baku"])
BAKU_DAY = date(2026, 12, 8)
REF = ReferenceData.load()
POLICY = SHIPPED.policy  # booking's rules as shipped


@BOTH_SIDES
def test_the_clock_gives_the_baku_day(now):
    assert now.astimezone(timezone.utc).date() == date(2026, 12, 7)
    assert baku_today(now) == BAKU_DAY


@BOTH_SIDES
def test_q1_a_visit_on_the_baku_day_itself_is_too_late_and_the_next_day_is_fine(now):
    def problems(day):
        visit = booking.Visit("baku-1", "passport", day, time(10, 15))
        return {r.code for r in booking.visit_problems(visit, REF, now, POLICY)}

    assert problems(BAKU_DAY) == {"too_late"}             # "today" in Baku
    assert problems(date(2026, 12, 9)) == set()           # a day ahead in Baku


@BOTH_SIDES
def test_q1_the_horizon_counts_from_the_baku_day(now):
    policy = replace(POLICY, horizon_days=30)
    last = booking.Visit("baku-1", "passport", date(2027, 1, 7), time(10, 15))  # 8 Dec + 30
    beyond = booking.Visit("baku-1", "passport", date(2027, 1, 8), time(10, 15))
    assert not booking.visit_problems(last, REF, now, policy)
    assert {r.code for r in booking.visit_problems(beyond, REF, now, policy)} == \
        {"beyond_horizon"}


def filed(due_on):
    """A complaint's state once filed, due on ``due_on`` (ISO)."""
    return complaints.fold([ComplaintFiled(
        complaint_id="c", reference="SK-20261107-ABC234", service="queue_booking",
        channel="electronic", filed_on="2026-11-07", due_on=due_on, complainant={}, text="x")])


@BOTH_SIDES
def test_c3_an_answer_on_the_baku_day_after_the_deadline_is_late(now):
    due_yesterday, due_today = filed("2026-12-07"), filed("2026-12-08")
    assert complaints.decide_answer(due_yesterday, "resolved", "x", "email",
                                    now)[0].late is True
    assert complaints.decide_answer(due_today, "resolved", "x", "email",
                                    now)[0].late is False


@BOTH_SIDES
def test_c3_filing_and_deadlines_count_baku_days(now):
    filed_on = baku_today(now)
    assert complaints.due_date(filed_on) == date(2027, 1, 8)
    state = filed("2026-12-07")
    assert [name for name, _ in complaints.decide_deadlines(state, baku_today(now), 5)] == \
        ["ComplaintDeadlineApproaching", "ComplaintOverdue"]


@BOTH_SIDES
def test_f2_a_birth_date_of_the_baku_day_is_plausible_and_the_next_is_not(now):
    query = {"name": "Leyla", "surname": "Məmmədova", "patronymic": "Əli qızı"}
    with validating_on(baku_today(now)):
        assert NameQuery().load(dict(query, birth_date="2026-12-08"))["birth_date"] == BAKU_DAY
        errors = NameQuery().validate(dict(query, birth_date="2026-12-09"))
    assert "birth_date" in errors


def _catalogue():
    centre = REF.centres["baku-1"]
    return {"centres": {"baku-1": {"services": sorted(centre.services),
                                   "hours": centre.as_dict()["hours"]}},
            "closed_days": ["2026-12-31"]}


@BOTH_SIDES
def test_walk_ins_only_within_the_opening_hours_of_the_baku_day(now):
    catalogue = _catalogue()
    hours = kiosk.opening_hours(catalogue, "baku-1", now)     # a Tuesday in Baku
    assert hours is not None
    with pytest.raises(kiosk.CentreClosed) as refused:        # but 00:30 / 03:30
        kiosk.check_open(catalogue, "baku-1", now)
    assert refused.value.error == "centre_closed"
    assert f"{hours[0]}–{hours[1]}" in refused.value.message.en
    assert refused.value.day == BAKU_DAY                      # the day it names
    kiosk.check_open(catalogue, "baku-1", datetime.combine(BAKU_DAY, time(11, 0), tzinfo=BAKU))


def test_walk_ins_refused_on_a_closed_day_whatever_the_hour():
    holiday_noon = datetime(2026, 12, 31, 12, 0, tzinfo=BAKU)
    with pytest.raises(kiosk.CentreClosed) as refused:
        kiosk.check_open(_catalogue(), "baku-1", holiday_noon)
    assert refused.value.error == "centre_closed" and "closed today" in refused.value.message.en


FORBIDDEN = re.compile(r"\bdate\.today\(|\bdatetime\.(?:now|utcnow|today)\(|"
                       r"\btime\.localtime\(|\.now\(\)\.date\(\)")


def test_no_code_reads_the_machine_day_but_the_clock_module():
    """One clock: outside ``shared/vocabulary/clock.py`` no service or shared module asks the
    machine for the date or the time of day (the service's clock does)."""
    offenders = []
    for folder in ("services", "shared"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if path == Path(inspect.getfile(baku_today)).resolve():
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert offenders == []
