"""Reading what the services "sent": the .eml files of the local mail sink."""
import email
import email.parser
import email.policy
import os
import re
import time
from pathlib import Path

MAIL_DIR = Path(os.environ.get("ASAN_MAIL_DIR", Path(__file__).resolve().parent.parent
                               / ".state" / "mail"))


_RECIPIENTS = {}  # path → X-Envelope-To, lower case: files never change once written


def _recipients(path):
    if path not in _RECIPIENTS:
        with open(path, "rb") as handle:
            headers = email.parser.BytesHeaderParser(policy=email.policy.default).parse(handle)
        _RECIPIENTS[path] = str(headers.get("X-Envelope-To", "")).lower()
    return _RECIPIENTS[path]


def messages_to(recipient, mail_dir=None):
    """The messages whose envelope names ``recipient``, in the shared sink's folder or
    in ``mail_dir`` (a test's own sink)."""
    found = []
    for path in sorted(Path(mail_dir or MAIL_DIR).glob("*.eml")):
        if recipient.lower() in _recipients(path):
            with open(path, "rb") as handle:
                found.append(email.message_from_binary_file(handle,
                                                            policy=email.policy.default))
    return found


def wait_for_mail(recipient, template, count=1, timeout=30):
    """The ``count``-th email of ``template`` (e.g. "booking_order_code") to ``recipient``."""
    deadline = time.monotonic() + timeout
    while True:
        matching = [m for m in messages_to(recipient)
                    if str(m.get("X-Template", "")).startswith(template + "/")]
        if len(matching) >= count:
            return matching[count - 1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {template} email #{count} to {recipient} in {timeout} s")
        time.sleep(0.1)


def text_of(message):
    return message.get_body(("plain",)).get_content()


def confirmation_code(message):
    return re.search(r"^\s+(\d{6})\s*$", text_of(message), re.M).group(1)


def order_code(message):
    return re.search(r"(?:Sifariş kodu|Order code): ([0-9A-Z]{4}-[0-9A-Z]{4})",
                     text_of(message)).group(1)
