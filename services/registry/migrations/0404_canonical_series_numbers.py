"""F-1: ID card numbers stored in one canonical form (shared.vocabulary.identity, issue 12).

Staff could register a card typed in Arabic-Indic, Persian or Devanagari digits, and
it was stored as typed: the lookup, which reads the canonical form, never found it.
This brings such rows to the canonical form with the same function. A row whose
canonical number is already stored (the same card twice) is left as it was: two
cards cannot share a number, and which one is right is for the staff to decide.
"""
from yoyo import step

from shared.vocabulary.identity import canonical_id_card

__depends__ = {"0403_registry_lenient_name_key"}

NOT_CANONICAL = ("SELECT series_number FROM id_documents"
                 " WHERE series_number !~ '^(AZE[0-9]{8}|AA[0-9]{7})$'")


def canonical_series_numbers(conn):
    """Rewrite every stored card number not in its canonical form
    (``shared.vocabulary.identity``)."""
    cursor = conn.cursor()
    cursor.execute(NOT_CANONICAL)
    for (typed,) in cursor.fetchall():
        canonical = canonical_id_card(typed)
        if canonical is not None:
            cursor.execute("UPDATE id_documents SET series_number = %s WHERE series_number = %s"
                           " AND NOT EXISTS (SELECT 1 FROM id_documents WHERE series_number = %s)",
                           (canonical, typed, canonical))


steps = [step(canonical_series_numbers)]
