"""An email that is no longer true is never sent (Q-2 and Q-4 for the codes, C-1 and
C-3 for the complaint receipts, and the reminder and move emails): the pure rule, one
per template, over what is known of the booking, and the decision at each try — given
the email's events and the booking events noted, when a request (or its redelivery),
then the email's events or the refusal ``Superseded``. The booking events may be noted
in any order, before or after the request arrives."""
from datetime import UTC, datetime, timedelta

import pytest

from services.booking.events import CATALOG as BOOKING_EVENTS
from services.notification import domain
from services.notification.events import EmailDelivered, EmailSuperseded, EmailTechnicalFailure
from services.notification.templates import Templates

ASKED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
BOOKING = "5b0e7c1a-0000-4000-8000-000000000001"
SAME_COMMAND, OTHER = "c0000000-0000-4000-8000-000000000001", None


def request(template, visit=("2026-11-24", "10:15"), correlation=SAME_COMMAND, asked_at=ASKED):
    """An email request; ``correlation`` is what the command's client sent, which the
    rules do not read (a client chooses it)."""
    return domain.Request(f"{BOOKING}:{template}", template, 2, "en", f"booking-{BOOKING}",
                          "leyla@example.az", ASKED + timedelta(days=1), asked_at=asked_at,
                          visit=visit)


def booking_event(kind, **fields):
    """Booking's public event ``kind`` as notification reads it: ``fields`` where its
    schema declares them, a stand-in value for every other required field (the
    rules read only the type, the booking and the visit)."""
    public = BOOKING_EVENTS[kind].public_event
    return public(**{name: "-" for name in public.required}
                  | {name: value for name, value in fields.items() if name in public.declared})


def noted(kind, seconds, visit=None, correlation=None):
    """The BookingEventNoted of a booking event ``seconds`` after the request."""
    at = ASKED + timedelta(seconds=seconds)
    event = booking_event(kind, booking_id=BOOKING, date=visit[0] if visit else None,
                          time=visit[1] if visit else None)
    [noted_] = domain.note(event, at, correlation, f"event-{kind}-{seconds}")
    return noted_


def known(*events):
    return domain.fold_booking(events)


BOOKED = noted("BookingRequested", -60, ("2026-11-24", "10:15"), SAME_COMMAND)
CONFIRMED = noted("CodeConfirmed", -30, ("2026-11-24", "10:15"))


def test_every_template_has_its_rule():
    assert set(domain.RULES) == set(Templates().versions)


@pytest.mark.parametrize("after, because", [
    (noted("CodeConfirmed", 5, ("2026-11-24", "10:15")), "CodeConfirmed"),
    (noted("HoldExpired", 900), "HoldExpired"),
    (noted("BookingVoided", 30), "BookingVoided"),
    (noted("BookingCancelled", 30), "BookingCancelled")])
def test_q2_a_confirmation_code_goes_out_only_while_the_hold_is_requested(after, because):
    code = request("booking_confirmation_code")
    assert domain.untrue(code, known(BOOKED)) is None
    assert domain.untrue(code, known(BOOKED, after)) == because


@pytest.mark.parametrize("template", ["booking_order_code", "booking_order_code_reissued"])
def test_q4_an_order_code_goes_out_while_the_booking_lasts_and_no_newer_code_replaced_it(
        template):
    code = request(template)
    moved = noted("BookingRescheduled", 60, ("2026-11-25", "11:00"))
    assert domain.untrue(code, known(BOOKED, CONFIRMED, moved)) is None  # the code stays
    # The new code's own event (recorded by the same command before it asks for the
    # email) does not replace the code it sends.
    own = noted("OrderCodeReissued", -0.001, correlation=SAME_COMMAND)
    assert domain.untrue(code, known(BOOKED, CONFIRMED, own)) is None
    assert domain.untrue(code, known(CONFIRMED, noted("OrderCodeReissued", 60))) \
        == "OrderCodeReissued"
    for ended in ("BookingCancelled", "BookingActivated", "BookingLapsed"):
        assert domain.untrue(code, known(CONFIRMED, noted(ended, 60))) == ended


@pytest.mark.parametrize("template", ["booking_reminder", "booking_rescheduled"])
def test_a_reminder_or_a_moves_email_goes_out_while_the_booking_is_at_the_time_it_states(
        template):
    email = request(template)
    assert domain.untrue(email, known(BOOKED, CONFIRMED)) is None
    assert domain.untrue(email, known(CONFIRMED, noted("BookingCancelled", 30))) \
        == "BookingCancelled"
    away = noted("BookingRescheduled", 30, ("2026-11-24", "12:00"))
    assert domain.untrue(email, known(CONFIRMED, away)) == "BookingRescheduled"
    back = noted("BookingRescheduled", 60, ("2026-11-24", "10:15"))
    assert domain.untrue(email, known(CONFIRMED, away, back)) is None  # true again
    another_day = noted("BookingRescheduled", 30, ("2026-11-25", "10:15"))
    assert domain.untrue(email, known(CONFIRMED, another_day)) == "BookingRescheduled"


@pytest.mark.parametrize("template", ["booking_cancelled", "booking_closed",
                                      "complaint_acknowledged", "complaint_answered"])
def test_a_receipt_of_what_happened_stays_true(template):
    receipt = request(template)
    later = known(CONFIRMED, noted("BookingRescheduled", 30, ("2026-11-25", "09:00")),
                  noted("OrderCodeReissued", 40), noted("BookingCancelled", 50))
    assert domain.untrue(receipt, later) is None


def test_only_what_happened_after_the_request_counts_so_a_late_noted_past_changes_nothing():
    """The reminder of a booking moved to 10:15 *before* it was asked for: the move
    noted late (after the request, or after another, later event) never makes it
    untrue; nor does a move of the same command."""
    reminder = request("booking_reminder", correlation=OTHER)
    earlier_move = noted("BookingRescheduled", -5, ("2026-11-24", "10:15"))
    first_place = noted("CodeConfirmed", -50, ("2026-11-24", "09:00"))
    assert domain.untrue(reminder, known(first_place)) is None  # the move not noted yet
    assert domain.untrue(reminder, known(first_place, earlier_move)) is None
    moved_with_it = noted("BookingRescheduled", -0.001, ("2026-11-24", "10:15"), SAME_COMMAND)
    rescheduled = request("booking_rescheduled")
    assert domain.untrue(rescheduled, known(first_place, moved_with_it)) is None


def test_either_order_of_arrival_knows_the_same():
    away = noted("BookingRescheduled", 30, ("2026-11-24", "12:00"))
    back = noted("BookingRescheduled", 60, ("2026-11-24", "10:15"))
    assert known(CONFIRMED, away, back).facts == known(back, away, CONFIRMED).facts
    reminder = request("booking_reminder")
    assert domain.untrue(reminder, known(back, away, CONFIRMED)) is None
    assert domain.untrue(reminder, known(back, CONFIRMED, noted("BookingCancelled", 90),
                                         away)) == "BookingCancelled"


def test_a_request_without_its_time_or_a_booking_without_noted_events_is_not_judged():
    assert domain.untrue(request("booking_reminder", asked_at=None),
                         known(noted("BookingCancelled", 30))) is None
    assert domain.untrue(request("booking_reminder"), known()) is None
    with pytest.raises(KeyError):
        domain.untrue(request("no_such_template"), known())


def test_events_that_change_no_email_are_not_noted():
    for kind in ("CodeRejected", "BookingReminded"):
        assert domain.note(booking_event(kind, booking_id=BOOKING), ASKED, None, "e") == []


# --- the decision at each try -----------------------------------------------------

NOW = ASKED + timedelta(minutes=2)
REMINDER = request("booking_reminder")
COMMON = REMINDER.common()
CANCELLED = known(CONFIRMED, noted("BookingCancelled", 30))


def test_an_email_untrue_when_it_first_arrives_is_created_and_superseded_unsent():
    with pytest.raises(domain.Superseded) as refused:
        domain.decide_send(domain.fold([]), REMINDER, NOW, CANCELLED)
    [(created, _), superseded] = refused.value.events
    assert created == "EmailCreated"
    assert superseded == EmailSuperseded(**COMMON, attempts=0, superseded_by="BookingCancelled",
                                         superseded_at=NOW.isoformat())
    assert refused.value.superseded_by == "BookingCancelled"
    assert domain.fold(refused.value.events).status == domain.SUPERSEDED


def test_an_email_that_failed_and_then_became_untrue_is_superseded_at_its_next_try():
    created = domain.decide_send(domain.fold([]), REMINDER, ASKED, known(CONFIRMED))
    failure = EmailTechnicalFailure(**COMMON, attempt=1, will_retry=True, retry_in_seconds=30,
                                    smtp_code=None, detail="ConnectionRefusedError")
    tried = domain.fold(created + [failure])
    assert domain.decide_send(tried, REMINDER, NOW, known(CONFIRMED)) == []  # still true
    with pytest.raises(domain.Superseded) as refused:
        domain.decide_send(tried, REMINDER, NOW, CANCELLED)
    [superseded] = refused.value.events
    assert isinstance(superseded, EmailSuperseded) and superseded.attempts == 1
    ended = domain.fold(created + [failure, superseded])
    with pytest.raises(domain.AlreadyDealtWith) as again:  # a redelivery: final
        domain.decide_send(ended, REMINDER, NOW, known(CONFIRMED))
    assert again.value.status == domain.SUPERSEDED


def test_a_delivered_email_stays_delivered_whatever_is_learned_after():
    delivered = domain.fold(domain.decide_send(domain.fold([]), REMINDER, ASKED)
                            + [EmailDelivered(**COMMON, attempt=1)])
    with pytest.raises(domain.AlreadyDealtWith) as again:
        domain.decide_send(delivered, REMINDER, NOW, CANCELLED)
    assert again.value.status == domain.DELIVERED
