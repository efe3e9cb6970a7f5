"""Time as a dependency, so rules about days, deadlines and holds can be tested
with a clock the test controls (nameko's ``replace_dependencies``)."""
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider


def utcnow():
    return datetime.now(timezone.utc)


class Clock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return utcnow
