"""The notification service's read model — ``emails``, one row per email intent:
its delivery state, tries and last error, what the ``GET /emails/<reference>`` page
and support read — written only here, as the projection of the service's own events
(D-1, issue 16). The write path (``shared.runtime.eventstore.UnitOfWork.flush``) calls
:func:`apply` in the transaction that appends each event; ``python -m shared.ops.rebuild
notification --check`` calls it on the whole event log and compares.

Every value comes from the events: ``attempts`` is the try's ``attempt``,
``last_error`` its ``detail``, ``version`` the stream's, ``created_at`` and
``updated_at`` the events' times, ``recipient`` ``EmailCreated``'s (private) field,
``superseded_by`` ``EmailSuperseded``'s (status ``superseded``: never sent, no longer
true). ``BookingEventNoted`` (what the service learned of a booking) is not projected:
the email rules fold its stream itself, at each try (``handlers.known_of``).
Exactly one email per intent is not kept by this table but by the stream's lock and
its folded state (``handlers.deliver``, ``domain.decide_send``).

Rows written before issue 16 (``created_at``/``updated_at`` the database's clock at
the write, the recipient absent from their ``EmailCreated``) differ from their rebuild
in those columns: ``--check`` lists them, ``--apply`` replaces them with the fold
(the recipient of such a row then is NULL, migration 0202).
"""
from .domain import CREATED, STATUS_OF, SUPERSEDED
from .events import CATALOG, EmailCreated, EmailDelivered, EmailSuperseded

TABLES = ("emails",)
# What a difference found by shared.ops.rebuild may print: no address, no error text.
CHECK_SHOWN = {"emails": ("intent_id", "status", "attempts", "version", "superseded_by")}


def apply(conn, recorded):
    """Write the change ``recorded`` (a ``RecordedEvent`` of an ``email-<intent>``
    stream) makes to ``emails``. Deterministic: ``updated_at`` is the event's time."""
    event = CATALOG.read(recorded.type, recorded.data)
    at = recorded.envelope.time
    if isinstance(event, EmailCreated):
        conn.execute(
            "INSERT INTO emails (intent_id, status, template, template_version, language,"
            " reference, recipient, attempts, last_error, version, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 0, NULL, %s, %s, %s)",
            (event.intent_id, CREATED, event.template, event.template_version,
             event.language, event.reference, event.recipient, recorded.version, at, at))
    elif type(event) in STATUS_OF:
        # A failure's detail (a delivery has none); "" kept as NULL.
        last_error = None if isinstance(event, EmailDelivered) else event.detail or None
        conn.execute(
            "UPDATE emails SET status = %s, attempts = %s, last_error = %s, version = %s,"
            " updated_at = %s WHERE intent_id = %s",
            (STATUS_OF[type(event)], event.attempt, last_error, recorded.version, at,
             event.intent_id))
    elif isinstance(event, EmailSuperseded):
        conn.execute(
            "UPDATE emails SET status = %s, superseded_by = %s, version = %s, updated_at = %s"
            " WHERE intent_id = %s",
            (SUPERSEDED, event.superseded_by, recorded.version, at, event.intent_id))


EMAIL_STATES = ("intent_id", "status", "template", "template_version", "attempts",
                "updated_at", "superseded_by")


def emails_about(conn, reference):
    """The delivery states of the emails about ``reference`` (e.g. ``booking-<id>``),
    oldest first: dicts of :data:`EMAIL_STATES` (``updated_at`` as text;
    ``superseded_by`` ``None`` unless superseded). No address."""
    rows = conn.execute(
        "SELECT intent_id, status, template, template_version, attempts, updated_at,"
        " superseded_by FROM emails WHERE reference = %s ORDER BY created_at",
        (reference,)).fetchall()
    return [dict(zip(EMAIL_STATES, (str(v) if k == "updated_at" else v
                                    for k, v in zip(EMAIL_STATES, row)))) for row in rows]
