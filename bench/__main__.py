"""Run every benchmark section and print one Markdown table."""
import argparse
import platform as host
import subprocess
import time

from . import booking as booking_bench
from . import kiosk as kiosk_bench
from . import monitoring as monitoring_bench
from . import registry as registry_bench
from . import platform as platform_bench

SECTIONS = {
    "appends": lambda: [platform_bench.appends()],
    "relay": lambda: [platform_bench.relay()],
    "bookings": booking_bench.complete_bookings,
    "activations": kiosk_bench.activations,
    "registry": registry_bench.lookups,
    "monitoring": monitoring_bench.consumer,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sections", nargs="*", default=list(SECTIONS))
    args = parser.parse_args(argv)
    rows = []
    for name in args.sections:
        print(f"… {name}", flush=True)
        rows += SECTIONS[name]()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print()
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit} "
          f"on {host.node()} ({host.processor() or host.machine()}, Python "
          f"{host.python_version()}), command: `make bench`")
    print()
    print("| what | ours | baseline | ratio (ours / baseline) |")
    print("|---|---|---|---|")
    for row in rows:
        extra = row.get("note", "")
        ratio = f"{row['ours'] / row['baseline']:.2f}" if row.get("ratio", True) else "—"
        print(f"| {row['what']} | {row['ours']:,.0f} {row['unit']} | {row['baseline']:,.0f} "
              f"{row.get('baseline_unit', row['unit'])} ({row['baseline_what']}) | "
              f"{ratio}{extra} |")


if __name__ == "__main__":
    main()
