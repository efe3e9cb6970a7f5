"""Real SMTP delivery. Locally the mail sink of ``make run``; in production any relay
(STARTTLS and authentication from config). The outcome is classified the way GOV.UK
Notify does: delivered, temporary failure (4xx: try again later), permanent failure
(5xx: this address will not work), technical failure (we could not talk to the
server at all).

The recipient goes out with its domain in ASCII (IDNA) form, in the envelope and the
``To:`` header alike (``shared.email_address.smtp_address``), so a relay without
SMTPUTF8 takes ``leyla@bakı.az`` — also from a request queued before the forms
normalized addresses. Only a local part that is not ASCII still needs SMTPUTF8; a
relay that lacks it will never take that address: a permanent failure."""
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from nameko.extensions import DependencyProvider

from shared.email_address import smtp_address

DELIVERED = "delivered"
TEMPORARY = "temporary-failure"
PERMANENT = "permanent-failure"
TECHNICAL = "technical-failure"


@dataclass(frozen=True)
class Outcome:
    status: str
    detail: str = ""
    smtp_code: int | None = None


def message_id(intent_id, domain):
    """Stable per intent: a resend after a crash carries the same Message-ID, so mail
    clients show one message."""
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, intent_id)}@{domain}>"


def build_message(rendered, sender, recipient, intent_id):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = smtp_address(recipient)  # smtplib takes the envelope from here
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(intent_id, sender.rsplit("@", 1)[-1].strip(">"))
    message["Content-Language"] = rendered.language
    message["X-Template"] = f"{rendered.template}/v{rendered.version}"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


class SmtpSender:
    def __init__(self, host, port, sender, starttls=False, user=None, password=None, timeout=10):
        self.host, self.port, self.sender = host, int(port), sender
        self.starttls, self.user, self.password = starttls, user, password
        self.timeout = float(timeout)

    def send(self, message):
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                try:
                    smtp.send_message(message)
                except smtplib.SMTPNotSupportedError as error:  # needs SMTPUTF8, not offered
                    return Outcome(PERMANENT, f"the relay cannot take this address: {error}")
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return self._classify(code, reply)
        except smtplib.SMTPResponseException as error:
            return self._classify(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPException, OSError) as error:
            return Outcome(TECHNICAL, f"{type(error).__name__}: {error}"[:300])
        return Outcome(DELIVERED)

    @staticmethod
    def _classify(code, reply):
        detail = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        status = TEMPORARY if 400 <= code < 500 else PERMANENT
        return Outcome(status, detail[:300], code)


class Smtp(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.sender = SmtpSender(
            config["SMTP_HOST"], config["SMTP_PORT"], config["MAIL_FROM"],
            starttls=bool(config.get("SMTP_STARTTLS", False)),
            user=config.get("SMTP_USER") or None, password=config.get("SMTP_PASSWORD") or None,
            timeout=config.get("SMTP_TIMEOUT", 10))

    def get_dependency(self, worker_ctx):
        return self.sender
