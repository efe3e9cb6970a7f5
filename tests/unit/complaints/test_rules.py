"""C-2 and C-3, pure: what a complaint must carry, and its one-month deadline."""
from datetime import date

import pytest

from services.complaints import domain
from services.complaints.events import ComplaintFiled


@pytest.mark.parametrize("filed, due", [
    ("2026-01-31", "2026-02-28"), ("2028-01-31", "2028-02-29"), ("2026-03-31", "2026-04-30"),
    ("2026-12-15", "2027-01-15"), ("2026-02-28", "2026-03-28"), ("2027-12-31", "2028-01-31")])
def test_c3_due_one_calendar_month_after_filing(filed, due):
    assert domain.due_date(date.fromisoformat(filed)) == date.fromisoformat(due)


FULL = {"name": "Leyla", "patronymic": "Əli qızı", "surname": "Məmmədova",
        "address": "Bakı, Nizami küç. 1", "email": "leyla@example.az"}


@pytest.mark.parametrize("missing", ["name", "patronymic", "surname", "address"])
def test_c2_each_missing_identity_field_is_named(missing):
    assert [r.field for r in domain.identity_problems(dict(FULL, **{missing: " "}))] == [missing]


def test_c2_an_email_or_a_postal_address_or_a_workplace_is_needed():
    assert [r.code for r in domain.identity_problems(dict(FULL, email=None))] == \
        ["contact_required"]
    for contact in ({"postal_address": "AZ1000, Bakı"}, {"workplace": "ADA Universiteti"}):
        assert domain.identity_problems(dict(FULL, email=None, **contact)) == []
    assert len(domain.identity_problems({})) == 5


def filed(due="2026-12-22"):
    return domain.fold([ComplaintFiled(complaint_id="c", reference="SK-20261122-ABC234",
                                       service="queue_booking", channel="electronic",
                                       filed_on="2026-11-22", due_on=due, complainant={},
                                       text="…")])


def test_c3_a_warning_before_the_deadline_and_a_breach_after_it_once_each():
    state = filed()
    assert domain.decide_deadlines(state, date(2026, 12, 16), 5) == []
    warned = domain.decide_deadlines(state, date(2026, 12, 17), 5)
    assert [name for name, _ in warned] == ["ComplaintDeadlineApproaching"]
    state = domain.evolve(state, warned[0])
    assert domain.decide_deadlines(state, date(2026, 12, 22), 5) == []  # due today: not late
    breach = domain.decide_deadlines(state, date(2026, 12, 23), 5)
    assert [name for name, _ in breach] == ["ComplaintOverdue"]
    state = domain.evolve(state, breach[0])
    assert domain.decide_deadlines(state, date(2027, 1, 30), 5) == []


def test_an_answered_complaint_is_never_overdue_and_cannot_be_answered_twice():
    from datetime import datetime, timezone

    from shared.vocabulary.errors import Conflict

    state = filed()
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    state = domain.evolve(state, domain.decide_answer(state, "resolved", "Düzəldildi.", "email",
                                                       now)[0])
    assert domain.decide_deadlines(state, date(2027, 1, 30), 5) == []
    with pytest.raises(Conflict):
        domain.decide_answer(state, "rejected", "x", "email", now)
