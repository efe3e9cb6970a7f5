"""Local SMTP mail sink for development and tests.

Locally no mail may leave the machine, so `deploy/bin/infra up` starts this
sink and the services send their SMTP here. Each message received is stored
as one file `<UTC timestamp>-<uuid>.eml` in $ASAN_MAIL_DIR: the raw RFC 5322
bytes as received, with the SMTP envelope prepended as `X-Envelope-From` and
`X-Envelope-To` headers, so tests and developers can read what was "sent".
A file appears atomically: it is written under a hidden temporary name and
then renamed, so a reader never sees half a message.

Failure modes, so tests can drive every delivery state of the notification service
against a real SMTP conversation: a recipient whose local part starts with
`refuse-temp` is refused with 451 (temporary), `refuse-perm` with 550 (permanent),
and `drop` makes the sink close the connection without answering (technical).
`greylist` plays greylisting, as real servers do against spam: the first N tries
for that recipient get 451, the next one is accepted. N is the number right after
the prefix (`greylist6-x@…`: six refusals), else MAILSINK_GREYLIST_REFUSALS (4, one
more than the three retries the notification service once gave an email). The
count is per recipient address and kept in memory until the sink stops.

`MAILSINK_REFUSE_WHILE` names a file: while it exists, every recipient is refused with
451, as a relay that fails for a while (a test creates the file, then deletes it).

The sink speaks SMTPUTF8 (RFC 6531) unless MAILSINK_SMTPUTF8=false: then it plays
a relay that cannot take a non-ASCII address, as many production relays are.

It can also play the production relay (deploy/k8s/base/config.yaml: STARTTLS and a
login), for the tests of that path. With MAILSINK_TLS_CERT and MAILSINK_TLS_KEY (PEM
files) it offers STARTTLS with that certificate and refuses MAIL before it (530).
With MAILSINK_USER and MAILSINK_PASSWORD it refuses MAIL before a successful AUTH
(PLAIN or LOGIN) as that user (530), and a wrong password with 535; AUTH is offered
only over TLS when TLS is set, and over the plain connection otherwise: a server
that would take the password and the mail in clear, which a client that requires
TLS must never talk to. A message received that way carries `X-Session-TLS` (the
TLS version) and `X-Session-Login` (the user) next to the envelope headers.

Settings come from the environment (defaults in deploy/env.sh): SMTP_HOST,
SMTP_PORT, ASAN_MAIL_DIR, and the ones above. SIGTERM or SIGINT stops the sink
cleanly.
"""

import asyncio
import datetime
import hmac
import logging
import os
import re
import signal
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("mailsink")

# Test addresses (see the module docstring): local-part prefix -> RCPT reply.
REFUSALS = {
    "refuse-temp": "451 4.3.0 Mailbox temporarily unavailable, try again later",
    "refuse-perm": "550 5.1.1 No such mailbox",
}
DROP = "drop"
GREYLIST = re.compile(r"^greylist(\d*)")
GREYLISTED = "451 4.7.1 Greylisted, please try again later"
UNAVAILABLE = "451 4.3.2 System not accepting messages, try again later"


class MaildirHandler:
    """aiosmtpd handler that writes every message to one .eml file."""

    def __init__(self, mail_dir: Path, greylist_refusals: int = 4,
                 refuse_while: Path | None = None) -> None:
        self.mail_dir = mail_dir
        self.greylist_refusals = greylist_refusals
        self.refuse_while = refuse_while  # while this file exists, every RCPT gets 451
        self.greylisted: dict[str, int] = {}  # recipient -> 451s answered so far

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        """Accepts recipient ``address`` (``250 OK``) unless its local part asks for a failure
        (module docstring): ``refuse-temp`` 451, ``refuse-perm`` 550, ``greylist[N]`` 451 the
        first N times, ``drop`` closes the connection unanswered (SMTP replies, RFC 5321)."""
        local_part = address.split("@", 1)[0].lower()
        if self.refuse_while is not None and self.refuse_while.exists():
            log.info("refusing RCPT %s: not accepting messages for now", address)
            return UNAVAILABLE
        if local_part.startswith(DROP):
            log.info("dropping the connection at RCPT %s (test address)", address)
            # abort(), not close(): nothing may reach the client, not even this reply.
            server.transport.abort()
            return "421 4.4.2 Connection dropped"
        for prefix, reply in REFUSALS.items():
            if local_part.startswith(prefix):
                log.info("refusing RCPT %s: %s", address, reply)
                return reply
        greylist = GREYLIST.match(local_part)
        if greylist:
            refusals = int(greylist.group(1) or self.greylist_refusals)
            seen = self.greylisted.get(address.lower(), 0)
            if seen < refusals:
                self.greylisted[address.lower()] = seen + 1
                log.info("greylisting RCPT %s (%d of %d)", address, seen + 1, refusals)
                return GREYLISTED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Stores the message with its SMTP envelope prepended as ``X-Envelope-From`` and
        ``X-Envelope-To`` headers; answers 250."""
        content = envelope.original_content or b""
        eol = b"\r\n" if b"\r\n" in content else b"\n"
        headers = (
            b"X-Envelope-From: " + (envelope.mail_from or "").encode() + eol
            + b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + eol
        )
        if session.ssl is not None:
            version = session.ssl["ssl_object"].version()
            headers += b"X-Session-TLS: " + version.encode() + eol
        if session.authenticated:
            headers += b"X-Session-Login: " + session.auth_data.encode() + eol
        path = self.store(headers + content)
        log.info(
            "stored %s from=%s to=%s bytes=%d",
            path.name, envelope.mail_from, ",".join(envelope.rcpt_tos), len(content),
        )
        return "250 Message accepted for delivery"

    def store(self, data: bytes) -> Path:
        """Writes ``data`` atomically (temporary name, then rename) as ``<UTC
        timestamp>-<uuid>.eml`` in the mail directory; returns its path."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{uuid.uuid4().hex}.eml"
        tmp = self.mail_dir / f".{name}.tmp"
        tmp.write_bytes(data)
        os.rename(tmp, self.mail_dir / name)
        return self.mail_dir / name


@dataclass(frozen=True)
class Login:
    """The one account the sink accepts (AUTH PLAIN or LOGIN), as aiosmtpd's
    ``authenticator``: the user name becomes the session's ``auth_data``."""
    user: str
    password: str

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """Accepts ``auth_data`` (a ``LoginPassword``) of this account; a refusal is
        answered 535 by aiosmtpd."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        given = auth_data.password
        # compare_digest on equal types: both sides as bytes.
        ok = hmac.compare_digest(user.encode(), self.user.encode()) and \
            hmac.compare_digest(given, self.password.encode())
        log.info("AUTH %s for %s: %s", mechanism, user, "accepted" if ok else "refused")
        if not ok:  # handled=False: aiosmtpd answers 535 (its default would answer nothing)
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The server side of STARTTLS with the certificate ``cert`` and its ``key``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(host: str, port: int, mail_dir: Path, greylist_refusals: int = 4,
                smtputf8: bool = True, tls: ssl.SSLContext | None = None,
                login: Login | None = None, refuse_while: Path | None = None) -> None:
    """Runs the SMTP sink on ``host``:``port`` until SIGTERM or SIGINT, storing mail in
    ``mail_dir``; ``greylist_refusals``: default 451s per greylisted recipient; ``smtputf8``:
    offer SMTPUTF8 (RFC 6531); ``tls``: offer and require STARTTLS with this context;
    ``login``: require AUTH as this account (over TLS when ``tls`` is set);
    ``refuse_while``: a file whose existence makes every recipient a 451."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    handler = MaildirHandler(mail_dir, greylist_refusals, refuse_while)
    # An explicit hostname: the default would do a (slow, offline) FQDN lookup.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mailsink.local", enable_SMTPUTF8=smtputf8,
                     tls_context=tls, require_starttls=tls is not None,
                     auth_required=login is not None, auth_require_tls=tls is not None,
                     authenticator=login),
        host=host,
        port=port,
    )
    log.info("listening on %s:%d, writing to %s%s%s%s", host, port, mail_dir,
             "" if smtputf8 else " (no SMTPUTF8)", " (STARTTLS required)" if tls else "",
             f" (AUTH required: {login.user})" if login else "")
    await stop.wait()
    log.info("stopping")
    server.close()
    await server.wait_closed()


def main() -> None:
    """``python deploy/mailsink.py``: the sink configured from the environment (``SMTP_HOST``,
    ``SMTP_PORT``, ``ASAN_MAIL_DIR``, ``MAILSINK_GREYLIST_REFUSALS``, ``MAILSINK_SMTPUTF8``,
    ``MAILSINK_TLS_CERT`` with ``MAILSINK_TLS_KEY``, ``MAILSINK_USER`` with
    ``MAILSINK_PASSWORD``, ``MAILSINK_REFUSE_WHILE``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    # aiosmtpd logs every SMTP command at INFO; one line per message is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    host = os.environ.get("SMTP_HOST", "127.0.0.1")
    port = int(os.environ.get("SMTP_PORT", "27025"))
    mail_dir = Path(os.environ.get("ASAN_MAIL_DIR", ".state/mail"))
    mail_dir.mkdir(parents=True, exist_ok=True)
    greylist_refusals = int(os.environ.get("MAILSINK_GREYLIST_REFUSALS", "4"))
    smtputf8 = os.environ.get("MAILSINK_SMTPUTF8", "true").lower() not in ("false", "0", "no")
    cert, key = os.environ.get("MAILSINK_TLS_CERT"), os.environ.get("MAILSINK_TLS_KEY")
    tls = tls_context(cert, key) if cert and key else None
    user, password = os.environ.get("MAILSINK_USER"), os.environ.get("MAILSINK_PASSWORD")
    login = Login(user, password) if user and password else None
    refuse_while = os.environ.get("MAILSINK_REFUSE_WHILE")
    asyncio.run(serve(host, port, mail_dir, greylist_refusals, smtputf8, tls, login,
                      Path(refuse_while) if refuse_while else None))


if __name__ == "__main__":
    main()
