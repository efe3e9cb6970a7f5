"""Supervision of the local platform: every process of ``deploy/Procfile`` under
supervisord (issue 13), and what operators see of it.

    python -m shared.ops.supervision config [--scale N] > .state/run/supervisord.conf
    python -m shared.ops.supervision listen        # supervisord's event listener

Why supervisord and not our own loop: a crashed process must be restarted with
back-off while the others keep serving, stopped gracefully (SIGTERM, then a kill
after ``stopwaitsecs``) with its whole process group, and its output kept in a log
file of its own — supervisord has done exactly that for twenty years.

* ``config`` writes supervisord's configuration from ``deploy/Procfile`` (the one
  list of processes, which the Kubernetes manifests are checked against too): a
  program per line, ``autorestart``, a start that must survive ``startsecs`` (a
  process that dies sooner is retried after 1, 2, 3… seconds, supervisord's
  back-off), output in ``$ASAN_LOG_DIR/<process>.log``, its own ``AMQP_URI`` (its
  broker account, ``shared.ops.brokerusers``: the nodes of ``$AMQP_URI``, another user
  and password). With ``--scale N`` every
  service and relay runs N times: the services share their HTTP port (the kernel
  spreads connections over them, SO_REUSEPORT), each relay instance serves its
  metrics on the base port plus 100 × its number, and only one relay per service
  publishes at a time (it holds the service's relay lock; the others stand by).
* ``listen`` is supervisord's event listener: every state change of a process is a
  JSON log line, an exit that was not asked for is counted in
  ``asan_process_exits_total{program,expected}`` (at 0 from the start for every
  program of the Procfile, or the first crash would never raise the alert:
  ``shared.runtime.metrics.at_zero``) and the processes' states are the
  gauge ``asan_process_up{program}`` (1 running, 0 not), served on
  ``ASAN_SUPERVISION_PORT`` (9009) for Prometheus (alerts ``ProcessCrashed`` and
  ``ProcessDown``).
"""
import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ..runtime.config import REPO_ROOT
from .procfile import PROCFILE, processes

log = logging.getLogger("shared.ops.supervision")
DEFAULT_PORT = 9009
# The first line of the written configuration, so nobody edits the generated file by hand.
GENERATED_HEADER = ("; Written by `python -m shared.ops.supervision config` (deploy/bin/run):"
                    " do not edit.")


def render_config(state_dir, log_dir, scale=1, procfile=PROCFILE, run_id="",
                  python=None, amqp_uris=None):
    """supervisord's configuration (text) for the processes of ``procfile``.
    ``amqp_uris``: ``{process: AMQP_URI}``, each program's own broker account
    (``shared.ops.brokerusers``); a program not in it inherits supervisord's."""
    amqp_uris = amqp_uris or {}
    python = python or str(REPO_ROOT / ".venv" / "bin" / "python")
    run_dir = Path(state_dir) / "run"
    sections = [f"""{GENERATED_HEADER}
[supervisord]
nodaemon=true
logfile={log_dir}/supervisord.log
pidfile={run_dir}/supervisord.pid
childlogdir={log_dir}
; supervisord's own output is the event listener's and the programs' business
silent=true

[unix_http_server]
file={run_dir}/supervisor.sock
chmod=0700

[supervisorctl]
serverurl=unix://{run_dir}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[eventlistener:supervision]
command={python} -m shared.ops.supervision listen --scale {max(1, int(scale))}
directory={REPO_ROOT}
events=PROCESS_STATE
autorestart=true
stderr_logfile={log_dir}/supervision.log
environment=ASAN_RUN_ID="{run_id}"
"""]
    for name, command in processes(procfile):
        if command.startswith(".venv/"):  # supervisord resolves a path from its own cwd
            command = f"{REPO_ROOT}/{command}"
        numprocs = max(1, int(scale))
        process_name = "%(program_name)s" if numprocs == 1 else \
            "%(program_name)s-%(process_num)d"
        environment = f'ASAN_RUN_ID="{run_id}",ASAN_INSTANCE="%(process_num)d",' \
                      'PYTHONUNBUFFERED="1",ASAN_LOG_DIR=""'
        if name in amqp_uris:  # "%" is supervisord's interpolation: doubled
            environment += f',AMQP_URI="{amqp_uris[name].replace("%", "%%")}"'
        sections.append(f"""
[program:{name}]
command={command}
directory={REPO_ROOT}
process_name={process_name}
numprocs={numprocs}
autostart=true
autorestart=true
startsecs=3
startretries=30
stopsignal=TERM
stopwaitsecs=15
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={log_dir}/{process_name}.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=3
environment={environment}
""")
    return "".join(sections)


# --- the event listener --------------------------------------------------------------
# supervisord's protocol (http://supervisord.org/events.html): write READY, read a
# header line and a payload of the length it gives, write RESULT 2\nOK, repeat.

def _read_event(stdin):
    """``(event name, fields)``, or ``None`` at end of input (supervisord is gone)."""
    line = stdin.readline()
    if not line:
        return None
    header = dict(part.split(":", 1) for part in line.split())
    payload = stdin.read(int(header["len"]))
    fields, _, _ = payload.partition("\n")
    return header["eventname"], dict(part.split(":", 1) for part in fields.split())


def program_names(scale=1, procfile=PROCFILE):
    """The names supervisord gives the processes of ``procfile`` (its events'
    ``processname``): the Procfile's name, or ``<name>-<k>`` for k = 0…scale-1."""
    names = [name for name, _ in processes(procfile)]
    if scale <= 1:
        return names
    return [f"{name}-{k}" for name in names for k in range(scale)]


def process_metrics(programs, registry=None):
    """``(exits, up)``: the counter ``asan_process_exits_total{program,expected}``, at 0
    for every one of ``programs`` both ways, and the gauge ``asan_process_up{program}``."""
    from prometheus_client import REGISTRY, Counter, Gauge

    from ..runtime.metrics import at_zero
    registry = registry or REGISTRY
    exits = at_zero(Counter("asan_process_exits_total",
                            "Process exits seen by the supervisor (expected: asked for, or a"
                            " clean exit code)", ["program", "expected"], registry=registry),
                    programs, ("false", "true"))
    up = Gauge("asan_process_up", "1 while the process runs under the supervisor",
               ["program"], registry=registry)
    return exits, up


def listen(stdin=sys.stdin, stdout=sys.stdout, port=None, scale=1):
    """Serve supervisord's events forever (see the module docstring)."""
    from prometheus_client import start_http_server

    exits, up = process_metrics(program_names(scale))
    start_http_server(int(port or os.environ.get("ASAN_SUPERVISION_PORT", DEFAULT_PORT)),
                      addr="127.0.0.1")
    while True:
        stdout.write("READY\n")
        stdout.flush()
        event = _read_event(stdin)
        if event is None:
            return
        name, fields = event
        program = fields.get("processname", fields.get("groupname", "?"))
        state = name.removeprefix("PROCESS_STATE_")
        up.labels(program).set(1 if state == "RUNNING" else 0)
        if state == "EXITED":
            expected = fields.get("expected") == "1"
            exits.labels(program, str(expected).lower()).inc()
            if not expected:
                print(json.dumps({"event": "process crashed; restarting it", "level": "error",
                                  "program": program, "pid": fields.get("pid")}),
                      file=sys.stderr, flush=True)
        elif state in ("BACKOFF", "FATAL"):
            print(json.dumps({"event": f"process {state.lower()}", "level": "error",
                              "program": program}), file=sys.stderr, flush=True)
        stdout.write("RESULT 2\nOK")
        stdout.flush()


def _amqp_uris():
    """Each process's own ``AMQP_URI`` (issue 14 §1): the nodes of ``$AMQP_URI``, the
    account ``python -m shared.ops.brokerusers ensure`` made for it. Exits with a message
    when a password is missing (``ensure`` was not run)."""
    from .brokerusers import BrokerError, process_amqp_uri
    try:
        return {name: process_amqp_uri(name, os.environ["AMQP_URI"])
                for name, _ in processes()}
    except BrokerError as error:
        sys.exit(f"supervision: {error}")


def main(argv=None):
    """``python -m shared.ops.supervision config [--scale N]`` writes supervisord's configuration to
    stdout; ``listen`` runs as supervisord's event listener."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="write supervisord's configuration to stdout")
    config.add_argument("--scale", type=int, default=int(os.environ.get("SCALE", 1) or 1))
    listener = sub.add_parser("listen", help="supervisord's event listener (run by supervisord)")
    listener.add_argument("--scale", type=int, default=1,
                          help="how many of each process supervisord runs (their names)")
    args = parser.parse_args(argv)
    if args.command == "config":
        state = os.environ.get("ASAN_STATE_DIR", str(REPO_ROOT / ".state"))
        logs = os.environ.get("ASAN_LOG_DIR") or str(Path(state) / "log")
        sys.stdout.write(render_config(state, logs, args.scale,
                                       run_id=os.environ.get("ASAN_RUN_ID", ""),
                                       amqp_uris=_amqp_uris()))
    else:
        listen(scale=args.scale)


if __name__ == "__main__":
    sys.exit(main())
