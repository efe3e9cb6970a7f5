"""Q-5 and the rule "one booking per ID card, service and day": ID cards stored in
one canonical form (shared.vocabulary.identity, issue 12).

Until now an ID card typed in Arabic-Indic, Persian or Devanagari digits was stored
as typed, so the same card was three cards to the hoarding rule and to the operator
search (Q-9). New bookings are stored canonical; this brings the rows stored before
to the same form, with the same function. (The events keep what was typed.)
"""
from yoyo import step

from shared.vocabulary.identity import canonical_id_card

__depends__ = {"0103_client_address"}

NOT_CANONICAL = ("SELECT DISTINCT id_card FROM bookings"
                 " WHERE id_card !~ '^(AZE[0-9]{8}|AA[0-9]{7})$'")


def canonical_id_cards(conn):
    """Rewrite every stored ID card not in its canonical form
    (``shared.vocabulary.identity.canonical_id_card``)."""
    cursor = conn.cursor()
    cursor.execute(NOT_CANONICAL)
    for (typed,) in cursor.fetchall():
        canonical = canonical_id_card(typed)
        if canonical is not None:
            cursor.execute("UPDATE bookings SET id_card = %s WHERE id_card = %s",
                           (canonical, typed))


steps = [step(canonical_id_cards)]
