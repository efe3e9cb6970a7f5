"""Run the benchmarks of docs/BENCHMARKS.md, or regenerate that page from a results file.

    python -m bench [--quick] [SECTION ...]   measure (all sections by default); writes
                                              $ASAN_STATE_DIR/bench/results-<UTC>.json and
                                              latest.json, prints the Markdown report
    python -m bench report [FILE] [--write]   the report of FILE (default latest.json);
                                              --write puts it into docs/BENCHMARKS.md and
                                              the plot into docs/bench-scaling.svg

``make bench`` runs the first with the platform started as by ``make run``. ``--quick``
only checks that the harness works (seconds per level, small counts); its report says
so and is not to be quoted.
"""
import argparse
import json
import os
import platform as host
import subprocess
import sys
import time
import traceback
from pathlib import Path

from shared.runtime.config import REPO_ROOT

from . import report
from .common import SETTINGS

# recovery last: it kills and pauses the platform's own processes
SECTIONS = ("appends", "relay", "bookings", "activations", "monitoring", "registry", "recovery")


def _run(name):
    if name == "appends":
        from .platform import appends
        return appends()
    if name == "relay":
        from .platform import relay
        return relay()
    if name == "bookings":
        from .booking import bookings
        return bookings()
    if name == "activations":
        from .kiosk import activations
        return activations()
    if name == "monitoring":
        from .monitoring import consumer
        return consumer()
    if name == "registry":
        from .registry import lookups
        return lookups()
    if name == "recovery":
        from .recovery import recovery
        return recovery()
    raise SystemExit(f"unknown section {name!r}; known: {', '.join(SECTIONS)}")


def _command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    """What the figures were measured on."""
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        memory = f"{kib / 1024 ** 2:.0f} GiB"
    except OSError:
        pass
    cpu = host.processor() or host.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": host.node(), "cores": os.cpu_count(), "memory": memory, "cpu": cpu,
            "python": host.python_version(),
            "postgresql": _command(["pg_config", "--version"]),
            "wrk": _command(["wrk", "-v"]).splitlines()[0] if _command(["wrk", "-v"]) else ""}


def _command_line(sections, quick):
    """How the run was asked for, as the report names it."""
    if list(sections) == list(SECTIONS):
        return "python -m bench --quick" if quick else "make bench"
    return "python -m bench " + ("--quick " if quick else "") + " ".join(sections)


def measure(sections, quick):
    """Runs ``sections`` (``--quick``: small counts, figures not to be quoted), writes the run
    ``{started, finished, commit, machine, results, failures, …}`` to
    ``$ASAN_STATE_DIR/bench/results-<UTC>.json`` and ``latest.json``, prints the Markdown
    report; returns the exit status, 1 when a section failed (the others still run)."""
    SETTINGS.quick = quick
    started = time.time()
    results, failures = [], {}
    for name in sections:
        print(f"… {name}", flush=True)
        t0 = time.monotonic()
        try:
            results += _run(name)
        except Exception:  # one broken section must not lose the others
            failures[name] = traceback.format_exc()
            print(failures[name], file=sys.stderr, flush=True)
        print(f"  {name}: {time.monotonic() - t0:.0f} s", flush=True)
    commit = _command(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"])
    dirty = bool(_command(["git", "-C", str(REPO_ROOT), "status", "--porcelain",
                           "--untracked-files=no"]))
    run = {"started": started, "finished": time.time(), "quick": quick, "commit": commit,
           "dirty": dirty, "sections": list(sections), "command": _command_line(sections, quick),
           "machine": machine(),
           "clients": list(SETTINGS.clients), "seconds_per_level": SETTINGS.seconds,
           "results": results, "failures": failures}
    folder = Path(os.environ.get("ASAN_STATE_DIR", REPO_ROOT / ".state")) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / time.strftime("results-%Y%m%dT%H%M%SZ.json", time.gmtime(started))
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False), encoding="utf-8")
    (folder / "latest.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    print()
    print(report.markdown(run))
    print(f"Results: {path} (docs/BENCHMARKS.md from it: python -m bench report {path} --write)")
    return 1 if failures else 0


def main(argv=None):
    """``python -m bench [--quick] [SECTION …]`` or ``python -m bench report …``; returns the
    exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:
        return report.main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", default=list(SECTIONS),
                        help=f"any of: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true",
                        help="small counts and 3 s per level: checks the harness, "
                             "figures not to be quoted")
    args = parser.parse_args(argv)
    for name in args.sections:
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; known: {', '.join(SECTIONS)}")
    return measure(args.sections, args.quick)


if __name__ == "__main__":
    sys.exit(main())
