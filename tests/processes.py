"""The processes of the running platform (started by `make run` / `make test` from this
checkout), found by their command line and working directory, for tests that pause
or kill one of them."""
import os
import signal
from contextlib import contextmanager

from shared.runtime.config import REPO_ROOT
from tests.markers import answers_again


def pids_of(marker):
    """Pids of live processes started from this checkout whose command line holds
    ``marker`` (e.g. ``services.booking.service:BookingService``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if marker in cmdline and os.path.realpath(cwd) == os.path.realpath(REPO_ROOT):
            found.append(int(entry))
    return found


def service_pids(service):
    """The nameko process(es) of ``service`` (not its relay)."""
    return pids_of(f"services.{service}.service:")


@contextmanager
def paused(service):
    """SIGSTOP the nameko process(es) of ``service`` for the block, SIGCONT after,
    whatever happens; then waits until it has taken the RPC requests that queued up
    while it was stopped and answers again (:func:`tests.markers.answers_again`, as
    the broker's administrator: ``AMQP_URI`` of deploy/env.sh)."""
    pids = service_pids(service)
    assert pids, "no process to pause: is the platform running from this checkout?"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        answers_again(os.environ["AMQP_URI"], service)
