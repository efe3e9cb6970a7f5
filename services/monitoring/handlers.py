"""The monitoring service's use case that changes state: keeping a control report
(M-4). Load its stream, let :mod:`.domain` decide, append; :mod:`.read_model` writes
the row. The projections of the other services' events are in :mod:`.read_model`."""
import uuid

from . import domain, report


def keep_report(uow, params, trigger):
    """Build, keep and announce one report (M-4): load its stream, decide, append;
    the read model writes the row. Raises ``domain.ReportAlreadyKept`` when the daily
    report of the day was kept first."""
    report_id = str(uuid.uuid4())
    stream = domain.stream_of(trigger, params.day, report_id)
    state = uow.load(stream, domain.fold)
    built = report.build(uow.conn, params)
    envelopes = [uow.new_event(name, stream, data) for name, data in domain.decide_keep(
        state, report_id, params.day, trigger, params.centre, params.service, params.as_of,
        built)]
    uow.append(stream, state.version, *envelopes)
    # generated_at is the moment the report was kept: its events' time (the row's too).
    return summary(report_id, params.day, trigger, params.centre, params.service,
                    params.as_of, envelopes[0].time, built["failures"]["summary"])


def summary(report_id, day, trigger, centre, service, as_of, generated_at, failures):
    """A kept report's summary as the API lists it: its id, day, trigger, scope,
    moments (ISO), the failures' counts and its ``href``."""
    return {"report_id": str(report_id), "day": day.isoformat(), "trigger": trigger,
            "centre": centre, "service": service, "as_of": as_of.isoformat(),
            "generated_at": generated_at.isoformat(), "failures": failures,
            "href": f"/reports/{report_id}"}
