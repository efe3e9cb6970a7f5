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
  did for them is committed);
* :func:`handler_quiet`: an in-process event handler has nothing left to do: none of
  its queues (its own, retry, delay) holds a message and none of its workers runs, so
  every redelivery it had asked for has come back and been handled;
* :func:`answers_again`: a running service answered an RPC request sent after the
  call through its request queue, so it took everything queued there before it.

The timeouts only catch "never": a marker that comes is waited for however long it
takes within them."""
import time

import psycopg
from kombu import Connection
from nameko.exceptions import MethodNotFound
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter

from shared.runtime.consumer import queue_names

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


def _ready(amqp_uri, queues):
    """Messages ready in each of ``queues`` (names), exactly as the broker counts them
    now (a passive declare; the management API's figures lag by a statistics round)."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        try:
            return {name: channel.queue_declare(name, passive=True).message_count
                    for name in queues}
        finally:
            channel.close()


def handler_quiet(container, method, timeout=NEVER):
    """Waits until the ``@on_event`` handler ``method`` of the running in-process nameko
    ``container`` is quiet: no message ready in any of its queues (its own, retry and
    delay queues) and no worker of the container running, in two checks in a row (a
    message the broker has just handed to the consumer is in no queue's ready count
    until its worker starts: the broker round trip between the checks lets it)."""
    [consumer] = [e for e in container.entrypoints if e.method_name == method]
    names = [name for name, _ in queue_names(container.service_name, method, consumer,
                                             container.config).declarations()
             if not name.endswith(".dlq")]
    amqp_uri = container.config["AMQP_URI"]
    in_a_row = []

    def quiet():
        idle_before = not container._worker_threads
        empty = not any(_ready(amqp_uri, names).values())
        in_a_row.append(idle_before and empty and not container._worker_threads)
        return in_a_row[-2:] == [True, True]

    wait_until(quiet, f"{container.service_name}.{method} getting quiet", timeout)


def answers_again(amqp_uri, service, timeout=NEVER):
    """Waits until the running ``service`` answers an RPC request sent now through its
    request queue ``rpc-<service>`` (as admin, on ``amqp_uri``). The queue hands out
    in order, so the service has taken every request queued before it (e.g. while it
    was paused) and is answering again. The request names a method no service has:
    the answer is nameko's ``MethodNotFound``, from the service itself."""
    proxy = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout)
    try:
        with proxy as cluster:
            try:
                getattr(cluster, service).no_such_method_a_test_marker()
            except MethodNotFound:
                return
            except Exception as late:
                raise AssertionError(f"{service} did not answer in {timeout} s") from late
        raise AssertionError(f"{service} answered a method it does not have")
    finally:
        # nameko's reply queue outlives its proxy by minutes (x-expires): the broker is
        # left as it was found (tests/platform_state.py)
        with Connection(amqp_uri) as conn:
            conn.default_channel.queue_delete(proxy._reply_listener.queue.name)
