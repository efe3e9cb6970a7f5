"""M-1, M-2: monitoring reads every public event of every service. Each public type
of each service it reads is either projected (``read_model.PROJECTIONS``) or named in
``read_model.IGNORED`` with its reason, never both, never neither: a service that
adds a public event type fails here until monitoring decides what to make of it."""
import uuid
from datetime import datetime, timezone

import pytest

from services.monitoring import read_model
from shared.runtime.config import SERVICES
from shared.vocabulary.envelope import Envelope


def test_m1_monitoring_reads_every_service_that_publishes_but_itself():
    assert set(read_model.CATALOGS) == set(SERVICES) - {"monitoring"}
    assert set(read_model.PROJECTIONS) == set(read_model.IGNORED) == set(read_model.CATALOGS)


@pytest.mark.parametrize("source", sorted(read_model.CATALOGS))
def test_m1_every_public_event_type_is_projected_or_ignored_by_name(source):
    catalogue = read_model.CATALOGS[source].public_types()
    projected = set(read_model.PROJECTIONS[source])
    ignored = set(read_model.IGNORED[source])
    assert not projected & ignored, "projected and ignored at once"
    assert ignored - catalogue == set(), "ignored, but no such public event (any more)"
    assert catalogue - projected - ignored == set(), "neither projected nor ignored"
    assert projected | ignored == catalogue
    assert all(read_model.IGNORED[source].values()), "every ignored type says why"


def test_m1_a_public_type_neither_projected_nor_ignored_is_refused_loudly(monkeypatch):
    monkeypatch.setitem(read_model.IGNORED, "booking",
                        {k: v for k, v in read_model.IGNORED["booking"].items()
                         if k != "CodeRejected"})
    rejected = Envelope(id=str(uuid.uuid4()), type="CodeRejected", source="/asan/booking",
                        subject="s", time=datetime.now(timezone.utc), schemaversion=1,
                        correlationid=str(uuid.uuid4()),
                        data={k: "x" for k in read_model.CATALOGS["booking"]["CodeRejected"]
                              .public_event.declared})
    with pytest.raises(LookupError, match="neither projects nor ignores"):
        read_model.rows(rejected)


def test_a_projection_of_a_type_its_source_does_not_publish_fails_at_import():
    with pytest.raises(ValueError, match="not a public event of booking"):
        read_model.projects("booking", "OrderCodeResent")(lambda event, envelope: ())
