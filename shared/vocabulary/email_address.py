"""Email addresses: one rule where an address is typed in, one form on the wire.

An address reaches a relay in two parts that travel differently:

* the domain has an ASCII form every relay takes: IDNA 2008 with the UTS-46 mapping,
  as ``email_validator`` computes it (``bakı.az`` is ``xn--bak-lua.az``). We keep and
  show the address as the person typed it (they recognise ``leyla@bakı.az``, not the
  ``xn--`` form) and turn the domain into ASCII at the SMTP edge
  (:func:`smtp_address`), for the envelope and the ``To:`` header alike. A relay
  without SMTPUTF8 (RFC 6531) refuses the Unicode form outright;
* the local part (before the ``@``) has no ASCII form: ``ləylə@…`` can only travel
  over relays that all speak SMTPUTF8, which ours need not. So such an address is
  refused where it is entered (the booking form, a complaint), with a reason in both
  languages (Q-5, C-2), rather than failing later where nobody sees it.

Deliverability (DNS) is not checked: the emailed confirmation code itself proves an
address works (Q-2).

    normalize_email("Leyla@BAKI.az")      # "Leyla@baki.az", or EmailRefused(reason)
    smtp_address("leyla@bakı.az")         # "leyla@xn--bak-lua.az"
    email = EmailAddress(required=True)   # the marshmallow field of every form
"""
import email_validator
from marshmallow import ValidationError, fields

from .errors import Text

INVALID = Text("email", "E-poçt ünvanı düzgün deyil.", "Not a valid email address.")
LOCAL_PART = Text(
    "email_local_part",
    "E-poçt ünvanında @ işarəsindən əvvəlki hissə yalnız latın hərflərindən, rəqəmlərdən və"
    " . _ - + işarələrindən ibarət ola bilər (ə, ı, ş, ç, ğ, ö, ü kimi hərflər olmaz):"
    " poçt serverləri belə ünvana məktub çatdıra bilmir.",
    "The part of the email address before the @ may only contain Latin letters, digits and"
    " the signs . _ - + (no letters such as ə, ı, ş, ç, ğ, ö, ü): mail servers cannot"
    " deliver to such an address.")


MAX_LOCAL_PART, MAX_ADDRESS = 64, 254  # octets, RFC 5321 §4.5.3.1 (and RFC 3696 errata)
TOO_LONG = Text("email_too_long",
                "E-poçt ünvanı çox uzundur: @ işarəsindən əvvəl ən çoxu 64, bütövlükdə ən çoxu"
                " 254 simvol ola bilər.",
                "The email address is too long: at most 64 characters before the @ and 254 in"
                " all.")


class EmailRefused(ValueError):
    """An address we do not take, with the reason to show (a :class:`Text`)."""

    def __init__(self, reason):
        super().__init__(reason.en)
        self.reason = reason


def _parsed(value):
    return email_validator.validate_email(value, check_deliverability=False)


def normalize_email(value):
    """The address as we keep it: the local part as typed, the domain lower case in
    its Unicode form (NFC). Raises :class:`EmailRefused` with :data:`INVALID` or,
    for a local part that is not ASCII, :data:`LOCAL_PART`."""
    try:
        parsed = _parsed(value)
    except email_validator.EmailNotValidError:
        raise EmailRefused(INVALID) from None
    if parsed.smtputf8:  # only a non-ASCII local part needs it: a domain has its IDNA form
        raise EmailRefused(LOCAL_PART)
    if len(parsed.local_part) > MAX_LOCAL_PART or len(parsed.ascii_email) > MAX_ADDRESS:
        raise EmailRefused(TOO_LONG)  # RFC 5321 §4.5.3.1: relays may refuse longer
    return parsed.normalized


def smtp_address(address):
    """``address`` with its domain in ASCII (IDNA) form, for SMTP: whatever the
    address, even one queued before :func:`normalize_email` refused Unicode local
    parts. The local part is left as it is (then only a relay with SMTPUTF8 can take
    it); an address that cannot be read at all is returned unchanged, for the relay
    to refuse."""
    try:
        parsed = _parsed(address)
    except email_validator.EmailNotValidError:
        return address
    return f"{parsed.local_part}@{parsed.ascii_domain}"


class EmailAddress(fields.String):
    """The email field of every form (booking's ``email``, a complaint's ``email``):
    normalized by :func:`normalize_email`, or refused with its reason."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"format": "email", **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_email(text)
        except EmailRefused as refused:
            raise ValidationError(refused.reason) from None
