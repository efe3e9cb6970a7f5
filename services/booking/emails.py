"""The emails of booking, composed in one place: one function per template, each
building the ``EmailRequested`` (a typed event, for the notification service, on the
private exchange) from the booking's state and the reference data, with the fields
``intent_id, template, language, to, reference, deliver_by, variables``.

``intent_id`` names what the email is about (one email per intent: a redelivered
request sends nothing twice), ``deliver_by`` (ISO, aware) is when it stops being of
use, ``variables`` what the template shows. The handlers send what these return
(``handlers.send_email``)."""
from datetime import date, time

from shared.vocabulary.email_request import RECEIPT_WINDOW

from . import domain
from .events import EmailRequested
from .reference import slot_start


def _names(reference, visit_or_state, language):
    """The centre's and service's names in ``language`` and the centre's address."""
    centre = reference.centres[visit_or_state.centre]
    service = reference.services[visit_or_state.service]
    pick = (lambda item: item.az) if language == "az" else (lambda item: item.en)
    return {"centre": pick(centre), "address": centre.address, "service": pick(service)}


def _when(state):
    """The visit's day and time as the templates show them."""
    return {"date": state.day.isoformat(), "time": state.time.strftime("%H:%M")}


def _at_the_visit(state):
    """Until the visit starts: the order code is needed at the kiosk, a reminder or a
    new time is of no use after."""
    return slot_start(state.day, state.time).isoformat()


def confirmation_code(reference, state, applicant, code, hold_minutes):
    """Q-2: the confirmation ``code`` of a new booking (``state`` folded from its
    ``BookingRequested``; ``applicant`` the form's), of use until the hold lapses."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:confirmation-code",
        template="booking_confirmation_code", language=state.language,
        to=applicant.email, reference=state.stream_id,
        deliver_by=state.hold_expires_at.isoformat(),
        variables={"name": applicant.name, "code": code, **_when(state),
                   "hold_minutes": hold_minutes,
                   **_names(reference, state, state.language)})


def order_code(reference, state, code):
    """Q-4: the order ``code`` of a booking just confirmed."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:order-code", template="booking_order_code",
        language=state.language, to=state.email, reference=state.stream_id,
        deliver_by=_at_the_visit(state),
        variables={"name": state.name, "order_code": domain.format_order_code(code),
                   **_when(state), **_names(reference, state, state.language)})


def order_code_reissued(reference, state, code):
    """Issue 17 §5 (resend): a new order ``code`` for a lost one (``state`` as it was
    before; the stream's version with the ``OrderCodeReissued`` makes each its own
    intent)."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:order-code:{state.version + 1}",
        template="booking_order_code_reissued", language=state.language,
        to=state.email, reference=state.stream_id,
        deliver_by=_at_the_visit(state),
        variables={"name": state.name, "order_code": domain.format_order_code(code),
                   **_when(state), **_names(reference, state, state.language)})


def cancelled(reference, state, now):
    """Q-8: the receipt of a cancellation by the citizen (bound to no moment)."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:cancelled", template="booking_cancelled",
        language=state.language, to=state.email, reference=state.stream_id,
        deliver_by=(now + RECEIPT_WINDOW).isoformat(),
        variables={"name": state.name, **_when(state),
                   **_names(reference, state, state.language)})


def rescheduled(reference, state, moved):
    """Issue 17 §5: the new time of a moved booking (``state`` as it was before the
    move, ``moved`` its ``BookingRescheduled``; the stream's version with that
    makes each move its own intent)."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:rescheduled:{state.version + 1}",
        template="booking_rescheduled", language=state.language, to=state.email,
        reference=state.stream_id,
        deliver_by=slot_start(date.fromisoformat(moved.date),
                              time.fromisoformat(moved.time)).isoformat(),
        variables={"name": state.name, "date": moved.date, "time": moved.time,
                   "previous_date": moved.previous_date, "previous_time": moved.previous_time,
                   **_names(reference, state, state.language)})


def reminder(reference, state):
    """Issue 17 §4: the reminder the day before the visit."""
    return EmailRequested(
        intent_id=f"{state.booking_id}:reminder:{state.day.isoformat()}",
        template="booking_reminder", language=state.language, to=state.email,
        reference=state.stream_id, deliver_by=_at_the_visit(state),
        variables={"name": state.name, **_when(state),
                   **_names(reference, state, state.language)})


def closed(reference, state, closure, book_again_url, now):
    """Issue 17 §6: a booking cancelled by ``closure``: why, in the booking's language,
    and where to book again."""
    language = state.language
    return EmailRequested(
        intent_id=f"{state.booking_id}:closed", template="booking_closed",
        language=language, to=state.email, reference=state.stream_id,
        deliver_by=(now + RECEIPT_WINDOW).isoformat(),
        variables={"name": state.name, **_when(state),
                   "reason": domain.closure_reason_words(closure.reason, language),
                   "book_again_url": book_again_url,
                   "whole_centre": closure.service is None,
                   **_names(reference, state, language)})
