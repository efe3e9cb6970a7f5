"""SMTP sessions are reused (issue 15: one session per email was a fifth of the
notification service's work), and reuse never costs an email: a pooled session that
died while idle is replaced for the same message; a failed session is never pooled.
Against a real mail sink (deploy/mailsink.py) of the test's own."""
import socket
import uuid

import pytest

from services.notification.sender import DELIVERED, TEMPORARY, SmtpSender, build_message
from services.notification.templates import RenderedEmail

pytestmark = pytest.mark.integration

SENDER = "ASAN xidmət <no-reply@asan.gov.az>"


def _message(to):
    rendered = RenderedEmail("booking_confirmation_code", 1, "en", "Your code", "code 042517",
                             "<p>code 042517</p>")
    return build_message(rendered, SENDER, to, f"{uuid.uuid4()}:confirmation-code")


def _sender(sink, **options):
    return SmtpSender("127.0.0.1", sink.port, SENDER, timeout=5, **options)


def test_a_session_that_delivered_carries_the_next_email(own_mail_sink):
    sink = own_mail_sink()
    sender = _sender(sink)
    first, second = f"a-{uuid.uuid4().hex[:8]}@example.az", f"b-{uuid.uuid4().hex[:8]}@example.az"
    assert sender.send(_message(first)).status == DELIVERED
    (session, _), = sender._idle
    assert sender.send(_message(second)).status == DELIVERED
    assert [s for s, _ in sender._idle] == [session]  # the same session, back in the pool
    assert len(sink.messages_to(first)) == 1 and len(sink.messages_to(second)) == 1
    sender.close()
    assert sender._idle == []


def test_a_pooled_session_that_died_is_replaced_and_the_email_still_goes(own_mail_sink):
    sink = own_mail_sink()
    sender = _sender(sink)
    assert sender.send(_message(f"a-{uuid.uuid4().hex[:8]}@example.az")).status == DELIVERED
    (dead, _), = sender._idle
    dead.sock.shutdown(socket.SHUT_RDWR)  # as a server's idle timeout would leave it
    to = f"b-{uuid.uuid4().hex[:8]}@example.az"
    assert sender.send(_message(to)).status == DELIVERED
    assert len(sink.messages_to(to)) == 1
    (fresh, _), = sender._idle
    assert fresh is not dead and dead.sock is None
    sender.close()


def test_a_session_that_got_a_refusal_is_not_reused(own_mail_sink):
    sink = own_mail_sink()
    sender = _sender(sink)
    to = f"greylist1-{uuid.uuid4().hex[:8]}@example.az"  # the sink's first answer: 451
    assert sender.send(_message(to)).status == TEMPORARY
    assert sender._idle == []
    assert sender.send(_message(to)).status == DELIVERED
    assert len(sink.messages_to(to)) == 1
    sender.close()


def test_an_idle_session_past_its_time_is_closed_not_used(own_mail_sink):
    sink = own_mail_sink()
    sender = _sender(sink, idle_seconds=0)
    assert sender.send(_message(f"a-{uuid.uuid4().hex[:8]}@example.az")).status == DELIVERED
    (old, _), = sender._idle
    assert sender.send(_message(f"b-{uuid.uuid4().hex[:8]}@example.az")).status == DELIVERED
    (new, _), = sender._idle
    assert new is not old and old.sock is None
    sender.close()
