"""Azerbaijani names as a lookup key (F-2), pure.

Python's ``str.lower`` is wrong for Azerbaijani: it maps ``I`` to ``i`` (should be
``ı``) and ``İ`` to ``i̇`` (i + combining dot). People also type ə in several ways:
decomposed forms, the look-alike Latin ``ǝ``/``Ǝ`` and the Cyrillic ``ә``/``Ә``. And
a patronymic is written with or without "oğlu"/"qızı". :func:`fold` maps every way
of typing the same name to one form; the match stays exact on that form (no prefix,
no wildcard, no partial match).
"""
import unicodedata

CONFUSABLES = str.maketrans({
    "\u01dd": "ə",  # ǝ Latin small turned e
    "\u018e": "Ə",  # Ǝ Latin capital reversed E
    "\u04d9": "ə",  # ә Cyrillic small schwa
    "\u04d8": "Ə",  # Ә Cyrillic capital schwa
    "\u2019": "'", "\u02bc": "'", "`": "'",
})
PATRONYMIC_SUFFIXES = ("oğlu", "qızı", "oglu", "qizi")


def lower_az(text):
    """Lower case by Azerbaijani rules: I → ı, İ → i, then the rest as usual."""
    return text.replace("I", "ı").replace("İ", "i").lower()


def upper_az(text):
    return text.replace("i", "İ").replace("ı", "I").upper()


def fold(text):
    """One form for every way of typing a name: NFC, confusables, Azerbaijani case,
    single spaces."""
    text = unicodedata.normalize("NFC", text).translate(CONFUSABLES)
    text = unicodedata.normalize("NFC", lower_az(text))
    return " ".join(text.split())


def patronymic_base(text):
    """The father's name: "Əli oğlu" → "əli" (folded)."""
    words = fold(text).split()
    if len(words) > 1 and words[-1] in PATRONYMIC_SUFFIXES:
        words = words[:-1]
    return " ".join(words)


def name_key(name, surname, patronymic, birth_date):
    return "|".join((fold(name), fold(surname), patronymic_base(patronymic),
                     birth_date.isoformat()))
