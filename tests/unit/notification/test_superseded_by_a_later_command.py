"""What makes an email untrue is what happened after it was asked for, by a later
command — and the correlation id does not tell commands apart: a client chooses it
(``X-Correlation-Id`` is taken from its request, and the citizen pages forward the
one of the page's request). Two commands sent with one id are still two commands:
a move back, or a cancellation, after a move email makes that email untrue whatever
id the client sent with both (issue 17 §5, Q-8)."""
from services.notification import domain
from tests.unit.notification.test_superseded import SAME_COMMAND, noted, request


def _known(*events):
    return domain.fold_booking(events)


def test_a_move_back_later_under_the_client_chosen_id_of_the_move_supersedes_its_email():
    moved = request("booking_rescheduled", visit=("2026-11-24", "11:00"),
                    correlation=SAME_COMMAND)
    there = noted("BookingRescheduled", -0.001, ("2026-11-24", "11:00"), SAME_COMMAND)
    back = noted("BookingRescheduled", 40, ("2026-11-24", "10:15"), SAME_COMMAND)
    assert domain.untrue(moved, _known(there, back)) == "BookingRescheduled"


def test_a_cancellation_later_under_the_client_chosen_id_of_the_move_supersedes_its_email():
    moved = request("booking_rescheduled", visit=("2026-11-24", "11:00"),
                    correlation=SAME_COMMAND)
    cancelled = noted("BookingCancelled", 40, None, SAME_COMMAND)
    assert domain.untrue(moved, _known(cancelled)) == "BookingCancelled"
