"""Booking and the kiosk gateway for the activation benchmark, in their own process
and vhost, with the clock stopped at ``BENCH_NOW`` (a booking is made a day ahead,
Q-1, so activating "now" needs a clock that says it is the day of the visit).

    python -m bench.kiosk_stack '<json config of both services>'
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything else, as nameko run does

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from datetime import datetime  # noqa: E402

from nameko.extensions import DependencyProvider  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from services.booking.service import BookingService  # noqa: E402
from services.kiosk_gateway.service import KioskGatewayService  # noqa: E402


class StoppedClock(DependencyProvider):
    def setup(self):
        self.now = datetime.fromisoformat(os.environ["BENCH_NOW"])

    def get_dependency(self, worker_ctx):
        return lambda: self.now


class BenchBooking(BookingService):
    clock = StoppedClock()


class BenchGateway(KioskGatewayService):
    clock = StoppedClock()


def main():
    configs = json.loads(sys.argv[1])
    runners = []
    for cls, config in ((BenchBooking, configs["booking"]), (BenchGateway, configs["gateway"])):
        runner = ServiceRunner(config)
        runner.add_service(cls)
        runner.start()
        runners.append(runner)
    stopped = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.send())
    stopped.wait()
    for runner in runners:
        runner.stop()


if __name__ == "__main__":
    main()
