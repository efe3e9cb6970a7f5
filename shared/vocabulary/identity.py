"""One canonical form for every identifier and date a person types, whichever
service reads it (issue 12).

People type what their keyboard, phone or a copied text gives them: full-width
digits (an East-Asian input method), Arabic-Indic or Persian digits (a phone set to
Arabic or Persian), Devanagari digits, ligatures and full-width letters. Python's
``\\d``, ``str.isdigit()`` and ``int()`` accept every script's digits, so the same
ID card passed validation in three spellings and was stored three times: one person
booked one service three times on one day, and the operator search found one of
them. Here each value is brought to its one ASCII form, or refused:

1. :func:`ascii_digits`: NFKC (compatibility forms: ``０`` → ``0``, ``Ａ`` → ``A``),
   then every Unicode decimal digit (``unicodedata.decimal``) → its ASCII digit;
2. the separators people put in (spaces, dashes of any kind) are dropped where the
   identifier has none, and ASCII letters upper-cased;
3. the result must match an **ASCII-only** pattern (``[0-9]``, never ``\\d``).

Each ``canonical_*`` function returns the canonical string, or ``None`` when the
value is not one (the schemas' fields in :mod:`shared.vocabulary.fields` turn that into a
bilingual reason). Stored values, hashes and lookups are always of the canonical
form, so "one booking per ID card, service and day" holds and searches find it.
"""
import re
import string
import unicodedata
from datetime import date

import phonenumbers

ID_CARD_RE = re.compile(r"(AZE[0-9]{8}|AA[0-9]{7})", re.ASCII)
FIN_RE = re.compile(r"[0-9A-HJ-NP-Z]{7}", re.ASCII)  # digits and capitals but I and O
CONFIRMATION_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)
# Order codes avoid 0/O and 1/I/L, which are easy to confuse on a keypad.
ORDER_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_CODE_LENGTH = 8
ORDER_CODE_RE = re.compile(rf"[{ORDER_CODE_ALPHABET}]{{{ORDER_CODE_LENGTH}}}", re.ASCII)
ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
# How dates are written in Azerbaijan: 15.12.2026 (a day or month of one digit too).
DOTTED_DATE_RE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", re.ASCII)

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def ascii_digits(value):
    """``value`` in NFKC, with every decimal digit of any script as an ASCII digit."""
    text = unicodedata.normalize("NFKC", str(value))
    if text.isascii():
        return text
    return "".join(_ascii_digit(char) for char in text)


def _ascii_digit(char):
    if char.isascii():
        return char
    digit = unicodedata.decimal(char, None)
    return char if digit is None else str(digit)


def _compact(value):
    """:func:`ascii_digits` without spaces or dashes, ASCII letters upper-cased (only
    ASCII: ``"ı".upper()`` is ``"I"``, which must not turn into a valid letter)."""
    text = ascii_digits(value)
    text = "".join(char for char in text
                   if not (char.isspace() or unicodedata.category(char) == "Pd"))
    return text.translate(_ASCII_UPPER)


def _matching(pattern, text):
    return text if pattern.fullmatch(text) else None


def canonical_id_card(value):
    """The ID card's series and number (F-1, Q-5): ``AZE`` + 8 digits, or ``AA`` + 7
    on a child's card: ``"aze 1234-5678"``, ``"AZE１２３４５６７８"`` → ``"AZE12345678"``."""
    return _matching(ID_CARD_RE, _compact(value))


def canonical_fin(value):
    """The personal identification number: 7 digits and Latin capitals but I and O."""
    return _matching(FIN_RE, _compact(value))


def canonical_confirmation_code(value):
    """The 6-digit confirmation code of the email (Q-3), in ASCII digits."""
    return _matching(CONFIRMATION_CODE_RE, _compact(value))


def canonical_order_code(value):
    """The order code (Q-4, Q-7) without its dash: ``"k7m2-qx4p"`` → ``"K7M2QX4P"``."""
    return _matching(ORDER_CODE_RE, _compact(value))


def format_order_code(code):
    """How an order code is shown and mailed: ``K7M2-QX4P``."""
    return f"{code[:4]}-{code[4:]}"


def canonical_phone(value):
    """E.164 of an Azerbaijani number (``+994501234567``), or ``None``."""
    text = ascii_digits(value).strip()
    try:
        number = phonenumbers.parse(text, "AZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or \
            phonenumbers.region_code_for_number(number) != "AZ":
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def canonical_date(value):
    """A date written ``YYYY-MM-DD`` (ISO) or ``DD.MM.YYYY`` (as in Azerbaijan), spaces
    around it trimmed, in any script's digits; ``None`` if it is neither or no such
    day exists. The range a field allows is the field's business (``shared.vocabulary.fields``)."""
    if not isinstance(value, str):
        return None
    text = ascii_digits(value).strip()
    if match := ISO_DATE_RE.fullmatch(text):
        year, month, day = match.groups()
    elif match := DOTTED_DATE_RE.fullmatch(text):
        day, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
