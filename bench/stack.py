"""Services for a benchmark, in their own process, vhost and databases.

    python -m bench.stack '{"services": [{"class": "services.registry.service:RegistryService",
                                          "config": {...}}]}'

With ``BENCH_NOW`` set, every service's clock is stopped at that moment (a booking is
made a day ahead, Q-1, so activating it "now" needs a clock on the day of the visit).
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything else, as nameko run does

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from datetime import datetime  # noqa: E402

from nameko.extensions import DependencyProvider  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402


class StoppedClock(DependencyProvider):
    def setup(self):
        self.now = datetime.fromisoformat(os.environ["BENCH_NOW"])

    def get_dependency(self, worker_ctx):
        return lambda: self.now


def service_class(path):
    module, name = path.split(":")
    cls = getattr(importlib.import_module(module), name)
    if os.environ.get("BENCH_NOW"):
        cls = type(cls.__name__, (cls,), {"clock": StoppedClock()})
    return cls


def main():
    runners = []
    for spec in json.loads(sys.argv[1])["services"]:
        runner = ServiceRunner(spec["config"])
        runner.add_service(service_class(spec["class"]))
        runner.start()
        runners.append(runner)
    stopped = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.send())
    stopped.wait()
    for runner in runners:
        runner.stop()


if __name__ == "__main__":
    main()
