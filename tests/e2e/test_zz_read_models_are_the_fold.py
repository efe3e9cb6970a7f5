"""D-1, issue 16: each service's tables are the fold of its event log.

Named to run after the other end-to-end tests: by then the running platform has been
through a day of everything — bookings held, confirmed, cancelled, expired, activated
and lapsed, refusals, slots filled to capacity, races lost — and each service's read
models, rebuilt from its event log into a scratch schema by ``shared.rebuild``, must
equal its live tables row for row, while the platform keeps running. Then the same
check once more after a booking made and cancelled now (the tables moved on)."""
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import REPO_ROOT
from shared.rebuild import read_model_of, rebuild
from tests.e2e.booking.conftest import form, post

pytestmark = pytest.mark.e2e

SERVICES = sorted(p.parent.name for p in Path(REPO_ROOT, "services").glob("*/read_model.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_read_models_rebuilt_from_the_event_log_equal_the_live_ones(service):
    assert read_model_of(service).TABLES
    differences = rebuild(service)
    assert differences == [], differences


def test_the_check_is_the_command_line_an_operator_runs_and_it_sees_a_tampered_row():
    """``python -m shared.rebuild booking --check`` exits 0 on the running platform;
    a read-model row changed behind the events' back makes it exit 1 and name the
    row by its key only (no personal data on a terminal)."""
    data = form()
    response = post("/bookings", data)
    assert response.status_code == 202, response.text
    booking_id = response.json()["booking_id"]
    command = [sys.executable, "-m", "shared.rebuild", "booking", "--check"]
    clean = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    import psycopg

    from shared.config import service_config
    with psycopg.connect(service_config("booking")["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE bookings SET status = 'void' WHERE booking_id = %s", (booking_id,))
        try:
            tampered = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                      timeout=120)
        finally:
            conn.execute("UPDATE bookings SET status = 'requested' WHERE booking_id = %s",
                         (booking_id,))
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert booking_id in tampered.stdout and "bookings" in tampered.stdout
    assert data["email"] not in tampered.stdout and data["id_card"] not in tampered.stdout
