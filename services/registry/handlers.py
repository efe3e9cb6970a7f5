"""The registry's use cases: the two lookups, audited, and changes to the table."""
import time

from shared.envelope import new_id
from shared.errors import Conflict, NotFound, Reason, Text
from shared.eventstore import EventStore

from . import lookup, names
from .events import CATALOG


def find(uow, method, query, client, today, asked_at, started):
    """Look up and audit. Returns (answer, refusal or None)."""
    if method == "id_card":
        answer = lookup.by_id_card(uow.conn, query["id_card"], today)
    else:
        answer = lookup.by_name(uow.conn, query["name"], query["surname"], query["patronymic"],
                                query["birth_date"])
    lookup.audit(uow, method, query, client, query.get("channel", "api"), answer.outcome,
                 answer.fin, started, asked_at)
    return answer, (None if answer.outcome == "found" else lookup.refusal(answer))


def audit_refused(uow, method, raw, client, outcome, asked_at, started):
    """Invalid or throttled queries are registered too (F-6)."""
    channel = raw.get("channel") if raw.get("channel") in lookup.CHANNELS else "api"
    asked = {k: v for k, v in raw.items() if isinstance(v, (str, int, float))}
    lookup.audit(uow, method, asked, client, channel, outcome, None, started, asked_at)


def register_person(uow, person, card):
    """A new person with a first ID card (staff of the registry)."""
    fin = person["fin"]
    key = names.name_key(person["name"], person["surname"], person["patronymic"],
                         person["birth_date"])
    inserted = uow.conn.execute(
        "INSERT INTO persons (fin, name, surname, patronymic, sex, birth_date, status, name_key)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (fin, person["name"], person["surname"], person["patronymic"], person["sex"],
         person["birth_date"], person["status"], key)).rowcount
    if not inserted:
        raise Conflict(Text("fin_taken", "Bu FİN artıq var.", "This FIN already exists."))
    stream = f"person-{fin}"
    uow.append(stream, 0, uow.new_event("PersonRegistered", stream, {
        **person, "birth_date": person["birth_date"].isoformat()}))
    issue_card(uow, fin, card, expected_version=1)


def issue_card(uow, fin, card, expected_version=None):
    """``card["series_number"]`` is canonical (``shared.fields.IdCard``), as stored."""
    series_number = card["series_number"]
    conn = uow.conn
    if conn.execute("SELECT 1 FROM id_documents WHERE series_number = %s",
                    (series_number,)).fetchone():
        raise Conflict(Text("card_taken", "Bu seriya və nömrə ilə vəsiqə artıq verilib.",
                            "An ID card with this series and number has been issued already."),
                       [Reason("card.series_number", "card_taken",
                               "Bu seriya və nömrə ilə vəsiqə artıq verilib.",
                               "An ID card with this series and number has been issued"
                               " already.")])
    replaced = conn.execute("UPDATE id_documents SET status = 'replaced' WHERE fin = %s AND"
                            " status = 'valid' RETURNING series_number", (fin,)).fetchall()
    conn.execute("INSERT INTO id_documents (series_number, fin, issued_on, expires_on, status)"
                 " VALUES (%s, %s, %s, %s, 'valid')",
                 (series_number, fin, card["issued_on"], card["expires_on"]))
    stream = f"person-{fin}"
    events = [uow.new_event("IdCardInvalidated", stream, {
        "fin": fin, "series_number": old, "status": "replaced"}) for (old,) in replaced]
    events.append(uow.new_event("IdCardIssued", stream, {
        "fin": fin, "series_number": series_number, "issued_on": card["issued_on"].isoformat(),
        "expires_on": card["expires_on"].isoformat()}))
    uow.append(stream, expected_version, *events)


def invalidate_card(uow, series_number, status):
    row = uow.conn.execute("UPDATE id_documents SET status = %s WHERE series_number = %s AND"
                           " status = 'valid' RETURNING fin", (status, series_number)).fetchone()
    if row is None:
        raise NotFound(Text("no_valid_card", "Belə etibarlı vəsiqə yoxdur.",
                            "No such valid ID card."))
    fin = row[0].strip()
    stream = f"person-{fin}"
    uow.append(stream, None, uow.new_event("IdCardInvalidated", stream, {
        "fin": fin, "series_number": series_number, "status": status}))


def import_population(database_url, count, seed, replace=False, progress=True):
    """Load the synthetic population and record the import as one event."""
    from .loader import load

    def record(conn, summary):
        store = EventStore(CATALOG)
        event = CATALOG.new("PopulationImported", "population", {
            "people": summary["people"], "documents": summary["documents"], "seed": seed,
            "as_of": summary["as_of"],
            "source": "synthetic generator (services/registry/population.py)"}, new_id())
        store.append(conn, "population", None, [event])

    started = time.perf_counter()
    summary = load(database_url, count, seed, replace=replace, progress=progress,
                   on_loaded=record)
    summary.setdefault("seconds", time.perf_counter() - started)
    return summary
