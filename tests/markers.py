"""Waiting for something that happened, never for a time.

A test that checks that something did *not* happen (no second email, no second event,
nothing more from a timer) cannot learn it by sleeping: a fixed sleep is too short on
a loaded machine, so the check passes before the unwanted effect could have come, and
too long everywhere else. It waits instead for a *positive marker* that can only come
after the unwanted effect would have:

* :func:`wait_until`: a condition polled until it holds (a later event, email or row
  sent after the effect through the same path), or an ``AssertionError`` naming what
  never came;
* :func:`timer_runs`: a timer of an in-process nameko container has run to its end
  ``runs`` more times, so a run that started after the call has finished (nameko's
  timer starts a run only when the one before has finished): whatever a run would do
  with what was there when the call was made has been done;
* :func:`processed`: an event consumer has recorded the given events in its
  ``processed_events`` (it records each in the transaction of its effect, so what it
  did for them is committed).

The timeouts only catch "never": a marker that comes is waited for however long it
takes within them."""
import time

import psycopg
from nameko.testing.services import entrypoint_waiter

NEVER = 60  # seconds: a marker not there by then is not coming


def wait_until(check, what, timeout=NEVER, every=0.05):
    """Polls ``check()`` until it returns something true, and returns that;
    ``AssertionError("<what> did not happen in <timeout> s")`` after ``timeout``
    seconds (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout} s")
        time.sleep(every)


def timer_runs(container, entrypoint, runs=2, timeout=NEVER):
    """Waits until the timer ``entrypoint`` (a method name) of the running nameko
    ``container`` has finished ``runs`` more times (``runs`` ≥ 2: the last of them
    started after this call). ``AssertionError`` after ``timeout`` seconds."""
    assert runs >= 2, "one run may have started before the call"
    finished = []

    def counted(worker_ctx, result, exc_info):  # a run that raised rolled back: it counts
        finished.append(worker_ctx)
        return len(finished) >= runs

    try:
        with entrypoint_waiter(container, entrypoint, timeout=timeout, callback=counted):
            pass
    except entrypoint_waiter.Timeout as late:
        raise AssertionError(f"{entrypoint} of {container.service_name} did not run"
                             f" {runs} times in {timeout} s") from late


def processed(database_url, consumer, event_ids, timeout=NEVER):
    """Waits until ``consumer`` (its name in ``processed_events``, e.g.
    ``notification.on_booking_email``) has processed every event of ``event_ids``
    (ids as strings) in the database at ``database_url``."""
    wanted = set(map(str, event_ids))

    def done():
        with psycopg.connect(database_url) as conn:
            have = {str(row[0]) for row in conn.execute(
                "SELECT event_id FROM processed_events WHERE consumer = %s"
                " AND event_id = ANY(%s::uuid[])", (consumer, list(wanted)))}
        return have == wanted

    wait_until(done, f"{consumer} processing {len(wanted)} events", timeout)
