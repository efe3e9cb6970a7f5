"""The complaints decider, pure (D-1, issue 16): given a complaint's events, when a
command, then these events — or this refusal (C-1 … C-4)."""
from datetime import date, datetime

import pytest

from services.complaints import domain
from services.complaints.events import (ComplaintAcknowledged, ComplaintAnswered,
                                        ComplaintAssigned, ComplaintDeadlineApproaching,
                                        ComplaintFiled, ComplaintOverdue, ComplaintWithdrawn)
from shared.vocabulary.clock import BAKU
from shared.vocabulary.errors import Conflict, ValidationFailed

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=BAKU)
BODY = {"service": "queue_booking", "text": "Kiosk bileti çap etmədi.", "name": "Leyla",
        "patronymic": "Əli qızı", "surname": "Məmmədova", "address": "Bakı, Nizami küç. 1",
        "email": "leyla@example.az", "postal_address": None, "workplace": None,
        "booking_id": None, "language": "en"}


def given(*events):
    return domain.fold(events)


def filed(complaint_id="c1", due_on="2026-02-28"):
    return ComplaintFiled(complaint_id=complaint_id, reference="SK-20260131-ABC234",
                          service="queue_booking", channel="electronic",
                          filed_on="2026-01-31", due_on=due_on, complainant={},
                          text=BODY["text"])


ACKNOWLEDGED = ComplaintAcknowledged(complaint_id="c1", by="email")


def names(events):
    return [name for name, _ in events]


def test_c1_c3_an_electronic_complaint_is_filed_and_acknowledged_by_email():
    events = domain.decide_file(domain.Complaint(complaint_id="c1"), "c1", "ABC234", BODY,
                                "electronic", NOW)
    assert names(events) == ["ComplaintFiled", "ComplaintAcknowledged"]
    (_, data), (_, acknowledged) = events
    assert data["reference"] == "SK-20260131-ABC234"
    assert (data["filed_on"], data["due_on"]) == ("2026-01-31", "2026-02-28")
    assert data["channel"] == "electronic" and data["language"] == "en"
    assert data["complainant"]["email"] == "leyla@example.az"
    assert acknowledged == {"complaint_id": "c1", "by": "email"}


def test_c4_a_paper_complaint_counts_from_the_day_the_letter_arrived_and_goes_by_post():
    body = dict(BODY, email=None, postal_address="AZ1000, Bakı",
                received_on=date(2026, 1, 15), scan_reference="scan-7")
    (_, data), (_, acknowledged) = domain.decide_file(domain.Complaint(), "c1", "ABC234",
                                                      body, "paper", NOW)
    assert (data["filed_on"], data["due_on"]) == ("2026-01-15", "2026-02-15")
    assert data["reference"].startswith("SK-20260115-") and data["scan_reference"] == "scan-7"
    assert acknowledged["by"] == "post"


def test_c2_a_complaint_without_its_identity_is_refused_with_every_reason():
    with pytest.raises(ValidationFailed) as refused:
        domain.decide_file(domain.Complaint(), "c1", "ABC234",
                           dict(BODY, surname=" ", email=None), "electronic", NOW)
    assert {r.field for r in refused.value.reasons} == {"surname", "contact"}


def test_c3_an_open_complaint_is_assigned_a_reviewer():
    state = given(filed(), ACKNOWLEDGED)
    assert domain.decide_assign(state, "r.aliyev", NOW) == [
        ("ComplaintAssigned", {"complaint_id": "c1", "reviewer": "r.aliyev",
                               "assigned_at": NOW.isoformat()})]
    assert given(filed(), ACKNOWLEDGED, *domain.decide_assign(state, "r.aliyev", NOW)) \
        .status == "assigned"


def test_c3_an_answer_in_time_is_not_late_and_carries_the_staffs_text():
    state = given(filed(), ACKNOWLEDGED)
    [(name, data)] = domain.decide_answer(state, "resolved", "Düzəldildi.", "email", NOW)
    assert name == "ComplaintAnswered"
    assert data == {"complaint_id": "c1", "decision": "resolved", "delivery": "email",
                    "answered_at": NOW.isoformat(), "late": False, "answer": "Düzəldildi."}


def test_c3_an_answer_after_the_deadline_is_late():
    late = datetime(2026, 3, 1, 9, 0, tzinfo=BAKU)
    [(_, data)] = domain.decide_answer(given(filed()), "rejected", "Yox.", "post", late)
    assert data["late"] is True


@pytest.mark.parametrize("closing", [
    ComplaintAnswered(complaint_id="c1", decision="resolved", delivery="email",
                      answered_at=NOW.isoformat(), late=False, answer="x"),
    ComplaintWithdrawn(complaint_id="c1", withdrawn_at=NOW.isoformat())])
def test_a_closed_complaint_is_not_assigned_answered_or_withdrawn_again(closing):
    state = given(filed(), ACKNOWLEDGED, closing)
    for command in (lambda: domain.decide_assign(state, "r.aliyev", NOW),
                    lambda: domain.decide_answer(state, "resolved", "x", "email", NOW),
                    lambda: domain.decide_withdraw(state, NOW)):
        with pytest.raises(Conflict) as refused:
            command()
        assert refused.value.error == "closed"


def test_the_complainant_withdraws_an_open_complaint():
    assert domain.decide_withdraw(given(filed(), ACKNOWLEDGED), NOW) == [
        ("ComplaintWithdrawn", {"complaint_id": "c1", "withdrawn_at": NOW.isoformat()})]


def test_c3_the_deadline_check_warns_and_records_the_breach_at_once_when_both_are_due():
    events = domain.decide_deadlines(given(filed(due_on="2026-02-28")), date(2026, 3, 2), 5)
    assert events == [
        ("ComplaintDeadlineApproaching", {"complaint_id": "c1", "due_on": "2026-02-28"}),
        ("ComplaintOverdue", {"complaint_id": "c1", "due_on": "2026-02-28"})]


def test_c3_a_warned_and_overdue_complaint_gets_nothing_more():
    state = given(filed(), ComplaintDeadlineApproaching(complaint_id="c1", due_on="2026-02-28"),
                  ComplaintOverdue(complaint_id="c1", due_on="2026-02-28"))
    assert domain.decide_deadlines(state, date(2026, 6, 1), 5) == []


def test_the_state_is_the_fold_of_the_events_and_its_version_their_count():
    state = given(filed(), ACKNOWLEDGED, ComplaintAssigned(complaint_id="c1",
                                                           reviewer="r.aliyev",
                                                           assigned_at=NOW.isoformat()))
    assert (state.status, state.reviewer, state.version, state.due_on) == \
        ("assigned", "r.aliyev", 3, date(2026, 2, 28))
    assert state.stream_id == "complaint-c1"


def test_references_use_an_alphabet_with_no_look_alikes():
    code = domain.new_reference_code()
    assert len(code) == 6 and set(code) <= set(domain.REFERENCE_ALPHABET)


def test_a_misspelt_field_fails_where_it_is_written_not_later_as_a_none():
    with pytest.raises(TypeError, match="no field withdrawn_on"):
        ComplaintWithdrawn(complaint_id="c1", withdrawn_on=NOW.isoformat())
    with pytest.raises(TypeError, match="needs withdrawn_at"):
        ComplaintWithdrawn(complaint_id="c1")
    with pytest.raises(AttributeError, match="no field 'reviewr'"):
        ComplaintAssigned(complaint_id="c1", reviewer="r", assigned_at=NOW.isoformat()).reviewr
    # A stored event missing a field its type requires does not fold into a state.
    with pytest.raises(TypeError):
        given(("ComplaintAssigned", {"complaint_id": "c1"}))
