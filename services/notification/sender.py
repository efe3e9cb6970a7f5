"""Real SMTP delivery. Locally the mail sink of ``make run``; in production any relay
(STARTTLS and authentication from config). With STARTTLS the relay's certificate is
verified, chain and host name, against ``SMTP_CA_FILE`` (default: the system's
trusted CAs) before the login: a password or a code sent to a server we did not
verify is given away. A relay that offers no STARTTLS is never used in clear.

The outcome is classified the way GOV.UK Notify does: delivered, temporary failure
(4xx: try again later), permanent failure (5xx: this address will not work),
technical failure (no conversation about this email: the relay could not be
reached, hung up, or refused our session — no STARTTLS, a certificate we do not
trust, our login refused). A session that could not be opened says nothing about
the address, whatever its reply code: an operator fixes the relay's settings, and
the email is tried again meanwhile.

The recipient goes out with its domain in ASCII (IDNA) form, in the envelope and the
``To:`` header alike (``shared.vocabulary.email_address.smtp_address``), so a relay without
SMTPUTF8 takes ``leyla@bakı.az`` — also from a request queued before the forms
normalized addresses. Only a local part that is not ASCII still needs SMTPUTF8; a
relay that lacks it will never take that address: a permanent failure."""
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

from nameko.extensions import DependencyProvider

from shared.vocabulary.email_address import smtp_address

# The delivery states, the domain's words (re-exported for the sender's callers).
from .domain import DELIVERED, PERMANENT, TECHNICAL, TEMPORARY
from .settings import NotificationSettings


@dataclass(frozen=True)
class Outcome:
    """What an SMTP attempt came to: ``status`` (delivered, temporary, permanent or
    technical failure), the server's ``detail`` and ``smtp_code``."""
    status: str
    detail: str = ""
    smtp_code: int | None = None


def message_id(intent_id, domain):
    """Stable per intent: a resend after a crash carries the same Message-ID, so mail
    clients show one message."""
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, intent_id)}@{domain}>"


def build_message(rendered, sender, recipient, intent_id):
    """The MIME message (text and HTML alternatives, UTF-8) of ``rendered`` from
    ``sender`` (``Name <address>``) to ``recipient``; its Message-ID is stable per
    ``intent_id``. Built with the ``compat32`` classes: the same message as the
    ``EmailMessage`` API's in a quarter of the time (issue 15: building and flattening
    an email was most of the notification service's CPU). A recipient whose local
    part is not ASCII needs SMTPUTF8, which only the modern API's policy writes."""
    to = smtp_address(recipient)  # smtplib takes the envelope from here
    message_id_ = message_id(intent_id, sender.rsplit("@", 1)[-1].strip(">"))
    if not to.isascii():
        return _build_international(rendered, sender, to, message_id_)
    message = MIMEMultipart("alternative")
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(rendered.subject, "utf-8").encode() \
        if not rendered.subject.isascii() else rendered.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_
    message["Content-Language"] = rendered.language
    message["X-Template"] = f"{rendered.template}/v{rendered.version}"
    message.attach(MIMEText(rendered.text, "plain", "utf-8"))
    message.attach(MIMEText(rendered.html, "html", "utf-8"))
    return message


def _build_international(rendered, sender, to, message_id_):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_
    message["Content-Language"] = rendered.language
    message["X-Template"] = f"{rendered.template}/v{rendered.version}"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


class SmtpSender:
    """Sends one message at a time per caller over SMTP sessions it keeps open.

    A session that delivered a message goes back to a pool of idle sessions (at most
    ``max_idle``, each reused for ``idle_seconds`` at most) and carries the next
    message (issue 15: opening a session per email — connect, EHLO, STARTTLS, login,
    QUIT — was a fifth of the notification service's work and the mail server's).
    A session that failed in any way is closed, never reused; a reused session the
    server had closed meanwhile (``SMTPServerDisconnected`` before a reply) is
    replaced by a new one for the same message, once.
    """

    def __init__(self, host, port, sender, *, timeout, starttls=False, user=None, password=None,
                 max_idle=8, idle_seconds=20.0, ca_file=None):
        self.host, self.port, self.sender = host, int(port), sender
        self.starttls, self.user, self.password = starttls, user, password
        # Verifies the chain and the host name (smtplib's own default verifies neither).
        self.tls = ssl.create_default_context(cafile=ca_file) if starttls else None
        self.timeout = float(timeout)
        self.max_idle, self.idle_seconds = max_idle, idle_seconds
        self._idle = []  # (session, monotonic time it became idle), most recent last

    def send(self, message):
        """Deliver ``message`` (from :func:`build_message`); returns its :class:`Outcome`."""
        session = self._take_idle()
        if session is not None:
            try:
                return self._send_on(session, message)
            except smtplib.SMTPServerDisconnected:
                _close(session)  # closed while idle: a new session, once
            except BaseException:
                _close(session)
                raise
        try:
            session = self._open()
        except smtplib.SMTPResponseException as error:  # e.g. 535: our login refused
            return Outcome(TECHNICAL, _reply_text(error), error.smtp_code)
        except (smtplib.SMTPException, OSError) as error:  # ssl.SSLError is an OSError
            return Outcome(TECHNICAL, f"{type(error).__name__}: {error}"[:300])
        try:
            return self._send_on(session, message)
        except smtplib.SMTPServerDisconnected as error:
            _close(session)
            return Outcome(TECHNICAL, f"{type(error).__name__}: {error}"[:300])
        except BaseException:
            _close(session)
            raise

    def _open(self):
        session = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:  # SMTPNotSupportedError when not offered: no plain text
                session.starttls(context=self.tls)
            if self.user:
                session.login(self.user, self.password or "")
        except BaseException:
            _close(session)
            raise
        return session

    def _send_on(self, session, message):
        """One message on an open session; the session is pooled again only when the
        message was delivered, closed otherwise. ``SMTPServerDisconnected`` is left to
        the caller."""
        try:
            session.send_message(message)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPNotSupportedError as error:  # needs SMTPUTF8, not offered
            _close(session)
            return Outcome(PERMANENT, f"the relay cannot take this address: {error}")
        except smtplib.SMTPRecipientsRefused as error:
            _close(session)
            code, reply = next(iter(error.recipients.values()))
            return self._classify(code, reply)
        except smtplib.SMTPResponseException as error:
            _close(session)
            return self._classify(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPException, OSError) as error:
            _close(session)
            return Outcome(TECHNICAL, f"{type(error).__name__}: {error}"[:300])
        self._give_back(session)
        return Outcome(DELIVERED)

    def _take_idle(self):
        now = time.monotonic()
        while self._idle:
            session, since = self._idle.pop()
            if now - since < self.idle_seconds:
                return session
            _close(session, polite=True)
        return None

    def _give_back(self, session):
        if len(self._idle) >= self.max_idle:
            _close(session, polite=True)
        else:
            self._idle.append((session, time.monotonic()))

    def close(self):
        """Close every idle session (the service stops)."""
        while self._idle:
            _close(self._idle.pop()[0], polite=True)

    @staticmethod
    def _classify(code, reply):
        detail = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        status = TEMPORARY if 400 <= code < 500 else PERMANENT
        return Outcome(status, detail[:300], code)


def _reply_text(error):
    """``SMTPAuthenticationError: 535 5.7.8 …``: the server's reply, never what we sent."""
    reply = error.smtp_error
    reply = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{type(error).__name__}: {error.smtp_code} {reply}"[:300]


def _close(session, polite=False):
    """Drop a session; ``polite``: say QUIT first (a healthy session we no longer
    need), not after a failure, where the server may not answer."""
    try:
        if polite:
            session.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        session.close()


class Smtp(DependencyProvider):
    """The SMTP relay's settings (``NotificationSettings``); one :class:`SmtpSender`
    for the service."""
    def setup(self):
        """Read ``SMTP_HOST``, ``SMTP_PORT``, ``MAIL_FROM``, ``SMTP_TIMEOUT`` and the
        relay's TLS (``SMTP_STARTTLS``, ``SMTP_CA_FILE``) and login (``SMTP_USER``,
        ``SMTP_PASSWORD``) settings."""
        settings = NotificationSettings.from_config(self.container.config)
        self.sender = SmtpSender(
            settings.SMTP_HOST, settings.SMTP_PORT, settings.MAIL_FROM,
            starttls=settings.SMTP_STARTTLS, user=settings.SMTP_USER,
            password=settings.SMTP_PASSWORD, timeout=settings.SMTP_TIMEOUT,
            ca_file=settings.SMTP_CA_FILE)

    def stop(self):
        """Close the pooled SMTP sessions."""
        self.sender.close()

    def get_dependency(self, worker_ctx):
        """The service's one :class:`SmtpSender` (its sessions are shared by the workers)."""
        return self.sender
