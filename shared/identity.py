"""Azerbaijani identity document numbers, as every service reads them: the ID card
"series and number" is AZE + 8 digits (AA + 7 digits on children's cards)."""
import re

ID_CARD_RE = re.compile(r"^(AZE\d{8}|AA\d{7})$")


def normalize_id_card(value):
    """Upper case, without the spaces and dashes people type."""
    return re.sub(r"[\s\-]", "", str(value)).upper()


def is_id_card(value):
    return bool(ID_CARD_RE.match(value))
