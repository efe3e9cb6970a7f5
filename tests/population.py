"""The synthetic population `make run` loaded, as the tests find it: regenerated with
the seed and the day the loader recorded in its PopulationImported event, so a test
knows who is in the registry however long ago it was loaded, and picks ID cards that
are valid today (the data must not age)."""
from collections import Counter
from datetime import date

import psycopg

from services.registry.population import generate
from shared.runtime.config import service_config
from tests import days

BEFORE_AS_OF = date(2026, 11, 22)  # the fixed day of imports made before it was recorded


def loaded_people(count=1000):
    """``[(Person, [IdDocument])]`` of the registry's last import."""
    with psycopg.connect(service_config("registry")["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT data FROM events WHERE event_type = 'PopulationImported'"
                           " ORDER BY global_position DESC LIMIT 1").fetchone()
    data = row[0] if row else {}
    as_of = date.fromisoformat(data["as_of"]) if data.get("as_of") else BEFORE_AS_OF
    return list(generate(min(count, data.get("people", count)), seed=data.get("seed", 2026),
                         today=as_of))


def a_loaded_person(count=1000):
    """A citizen with a card valid today and tomorrow (Baku: a midnight may pass during
    the test) and nobody else of the same name and birth date: ``(Person, card
    number)``."""
    people = loaded_people(count)
    key = lambda p: (p.name, p.surname, p.patronymic, p.birth_date)  # noqa: E731
    twins = Counter(key(p) for p, _ in people)
    valid_through = days.card_valid_through()
    for person, documents in people:
        cards = [d.series_number for d in documents
                 if d.status == "valid" and d.expires_on >= valid_through]
        if person.status == "citizen" and cards and twins[key(person)] == 1:
            return person, cards[0]
    raise AssertionError("no suitable person")
