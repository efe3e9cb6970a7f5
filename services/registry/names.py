"""Azerbaijani names as a lookup key (F-2), pure.

Python's ``str.lower`` is wrong for Azerbaijani: it maps ``I`` to ``i`` (should be
``ı``) and ``İ`` to ``i̇`` (i + combining dot). People also type ə in several ways:
decomposed forms, the look-alike Latin ``ǝ``/``Ǝ`` and the Cyrillic ``ә``/``Ә``. And
a patronymic is written with or without "oğlu"/"qızı". :func:`fold` maps every way
of typing the same name to one form; the match stays exact on that form (no prefix,
no wildcard, no partial match).

The dots of the i are the one thing people cannot be held to: the machine-readable
zone of the ID card prints ``İ`` as ``I``, and so does an English keyboard, so
``IBRAHIMOVA``, ``ISMAYIL`` or ``RAMIL QIZI`` must find İbrahimova, İsmayıl and
Ramil qızı. :func:`lenient_key` is the key with ``ı`` and ``i`` as one letter (so
İ, I, ı and i fold together); the lookup matches on it and answers only when it
names one person (F-2, F-4: never a FIN that is not certain). It is the exact key
with ``ı`` → ``i`` and nothing else, so PostgreSQL computes the same from the stored
key (``schema.LENIENT_KEY``, an expression index): no second column to keep in step.
"""
import unicodedata

CONFUSABLES = str.maketrans({
    "\u01dd": "ə",  # ǝ Latin small turned e
    "\u018e": "Ə",  # Ǝ Latin capital reversed E
    "\u04d9": "ə",  # ә Cyrillic small schwa
    "\u04d8": "Ə",  # Ә Cyrillic capital schwa
    "\u2019": "'", "\u02bc": "'", "`": "'",
})
# "oğlu" (son of) and "qızı" (daughter of), as their lenient forms: qızı, qizi, QIZI…
PATRONYMIC_SUFFIXES = ("oğlu", "oglu", "qizi")
COMBINING_DOT_ABOVE = "\u0307"


def lower_az(text):
    """Lower case by Azerbaijani rules: I → ı, İ → i, then the rest as usual. An i
    with a combining dot above (what other languages' lower case makes of İ, and how
    some keyboards type it) is i; so is a dotless ı given a dot."""
    text = text.replace("I", "ı").replace("İ", "i").lower()
    return text.replace("ı" + COMBINING_DOT_ABOVE, "i").replace("i" + COMBINING_DOT_ABOVE, "i")


def upper_az(text):
    return text.replace("i", "İ").replace("ı", "I").upper()


def fold(text):
    """One form for every way of typing a name: NFC, confusables, Azerbaijani case,
    single spaces."""
    text = unicodedata.normalize("NFC", text).translate(CONFUSABLES)
    text = unicodedata.normalize("NFC", lower_az(text))
    return " ".join(text.split())


def lenient(text):
    """``text`` (folded) with ı and i as one letter: the same as PostgreSQL's
    ``translate(text, 'ı', 'i')``."""
    return text.replace("ı", "i")


def patronymic_base(text):
    """The father's name: "Əli oğlu" → "əli" (folded); "RAMIL QIZI" → "ramıl"."""
    words = fold(text).split()
    if len(words) > 1 and lenient(words[-1]) in PATRONYMIC_SUFFIXES:
        words = words[:-1]
    return " ".join(words)


def name_key(name, surname, patronymic, birth_date):
    """The exact key of F-2, stored in ``persons.name_key``."""
    return "|".join((fold(name), fold(surname), patronymic_base(patronymic),
                     birth_date.isoformat()))


def lenient_key(name, surname, patronymic, birth_date):
    """The key the lookup matches on: İ, I, ı and i fold together."""
    return lenient(name_key(name, surname, patronymic, birth_date))
