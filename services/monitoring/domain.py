"""The rules of the control reports (M-3, M-4), pure: no database, no broker, no clock
of its own. A unit test reads "given these events, when this command, then these
events (or this refusal)" (tests/unit/monitoring/test_domain.py).

A kept report is one stream: ``daily-report-<day>`` for the daily report (so the
stream itself says whether that day's report exists, and instances that race for
it take turns on the stream's lock and the second one is refused), and
``report-<report_id>`` for a report made on demand (any number a day). Its events:

* ``ControlReportGenerated``: the public announcement (counts only, no ids);
* ``ControlReportKept``: private, the report's whole body as it was computed from
  the read models at that moment — what ``GET /reports/<id>`` serves. The body is
  not derivable later (the read models move on), so it is state and rides in an
  event; it lists booking ids and email references, so it stays inside the
  service (``events.py``: ``public=None``).

What the report *contains* is computed by ``report.build`` from the read models (a
query, not a decision); the decider decides whether a report is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from shared.vocabulary.decider import folder

from .events import CATALOG, ControlReportGenerated, ControlReportKept

TRIGGERS = ("daily", "on_demand")


class ReportAlreadyKept(Exception):
    """M-4: the daily report of this day exists already (another instance, or an
    earlier tick, kept it first). Not an error for the caller: nothing to do."""


@dataclass(frozen=True)
class ControlReport:
    """What the stream of one kept report says: nothing yet (``version`` 0), or the
    report kept."""
    report_id: str | None = None
    day: str | None = None
    trigger: str | None = None
    version: int = 0

    @property
    def kept(self):
        """Whether the stream holds a kept report."""
        return self.report_id is not None


def stream_of(trigger, day, report_id):
    """The stream a report is kept on: one per Baku day for the daily report (M-4:
    once a day), one per report otherwise."""
    if trigger == "daily":
        return f"daily-report-{day.isoformat()}"
    return f"report-{report_id}"


def evolve(state, event):
    """``state`` after one (typed) event of a report's stream: either of its events
    records the report's id, day and trigger."""
    state = replace(state, version=state.version + 1)
    match event:
        case ControlReportGenerated() | ControlReportKept():
            return replace(state, report_id=str(event.report_id), day=str(event.day),
                           trigger=event.trigger)
    return state


# ``events``: the events of one stream, in order.
fold = folder(ControlReport(), evolve, CATALOG)


def decide_keep(state, report_id, day, trigger, centre, service, as_of, body):
    """M-4: keep the report ``body`` (``report.build``'s dict) of ``day`` and announce
    it. ``as_of``: an aware datetime. Returns the typed events: the public
    announcement (the failure counts of M-3, no ids) and the private body.

    Raises :class:`ReportAlreadyKept` when the stream already holds a report (the
    daily report of ``day`` was kept before)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if state.kept:
        raise ReportAlreadyKept(f"the {state.trigger} report of {state.day} is kept already")
    about = {"report_id": str(report_id), "day": day.isoformat(), "trigger": trigger,
             "centre": centre, "service": service, "as_of": as_of.isoformat()}
    return [ControlReportGenerated(**about, failures=body["failures"]["summary"],
                                   href=f"/reports/{report_id}"),
            ControlReportKept(**about, report=body)]


def daily_report_due(now, after):
    """M-4: the Baku day whose daily report is due at ``now`` (an aware datetime in
    Baku time), or ``None``: yesterday's, once ``after`` (a timedelta) has passed
    since midnight — late events of the day have arrived by then."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if now - midnight < after:
        return None
    return midnight.date() - timedelta(days=1)
