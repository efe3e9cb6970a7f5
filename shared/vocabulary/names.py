"""A person's name as every form takes it: the booking form (Q-5) and the complaint
form (C-2) apply the one rule, and so every email that greets a person by name.

Why one rule: a name is the only thing a person types that our emails repeat (an
email goes out from the agency's address to whatever address was typed). Letters of
the Azerbaijani alphabet with single spaces, hyphens or apostrophes between them, 2 to
:data:`MAX_LENGTH` characters: no digits, no dots, no colons or slashes — so no link
and no "log in at …" can ride in a greeting.
"""
import re
import unicodedata

from marshmallow import ValidationError, fields

from .errors import Text

AZ_LETTERS = "A-Za-zÇçƏəĞğIıİiÖöŞşÜü"
NAME_RE = re.compile(rf"^[{AZ_LETTERS}]+(?:[ '\-][{AZ_LETTERS}]+)*$")
MIN_LENGTH, MAX_LENGTH = 2, 60

LENGTH = Text("length", f"{MIN_LENGTH} ilə {MAX_LENGTH} hərf arasında olmalıdır.",
              f"Must be between {MIN_LENGTH} and {MAX_LENGTH} letters.")
LETTERS = Text("letters", "Yalnız Azərbaycan əlifbasının hərfləri (ə, ı, İ, ğ, ş, ç, ö, ü"
               " daxil) yazılmalıdır.",
               "Only letters of the Azerbaijani alphabet (including ə, ı, İ, ğ, ş, ç, ö, ü).")


def normalize_name(value):
    """NFC, single spaces; the letters themselves are kept as typed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def name_problem(value):
    """Why ``value`` (normalized) is not a name, or ``None``."""
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        return LENGTH
    if not NAME_RE.match(value):
        return LETTERS
    return None


def is_name(value):
    """Whether ``value`` is a string that, normalized (NFC, single spaces), passes the name rule
    (Q-5, C-2)."""
    return isinstance(value, str) and name_problem(normalize_name(value)) is None


class Name(fields.String):
    """A marshmallow field that loads a name by this rule (normalized), or refuses it
    with the rule's bilingual reason. ``blank_is_none``: an empty value loads as
    ``None``, for a form whose "required" rule is checked elsewhere (C-2's)."""

    def __init__(self, *args, blank_is_none=False, **kwargs):
        self.blank_is_none = blank_is_none
        kwargs["metadata"] = {"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH,
                              **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = normalize_name(super()._deserialize(value, attr, data, **kwargs))
        if self.blank_is_none and not text:
            return None
        problem = name_problem(text)
        if problem:
            raise ValidationError(problem)
        return text
