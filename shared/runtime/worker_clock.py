"""The service's clock as a nameko dependency: ``self.clock()`` in a worker.

A test replaces it (``replace_dependencies(container, "clock")``) to run a rule on
either side of Baku midnight. What a day or an hour is in Baku lives in
``shared.vocabulary.clock``, which imports no nameko, so a pure domain can use it.
"""
from nameko.extensions import DependencyProvider

from ..vocabulary.clock import utcnow


class Clock(DependencyProvider):
    """``self.clock()`` → now, aware UTC. Tests replace it to move time."""

    def get_dependency(self, worker_ctx):
        """The function :func:`shared.vocabulary.clock.utcnow`: the worker's clock."""
        return utcnow
