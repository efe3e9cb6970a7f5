"""What every service's decider (``services/<name>/domain.py``) shares: folding a
stream's events into its state (D-1: state is the fold of events)."""
from .typed_events import Event


def folder(initial, evolve, catalog=None):
    """The ``fold(events)`` of a decider: the state ``events`` — ``(event_type, data)``
    pairs of one stream, oldest first — leave when each is applied to ``initial``
    (an immutable state: it is shared by every fold). What ``UnitOfWork.load`` takes.

    With the service's ``catalog`` (``events.CATALOG``), ``evolve(state, event)``
    gets each as its typed event (``shared.vocabulary.typed_events``; a typed event given is
    taken as it is); without, ``evolve(state, event_type, data)``."""
    def fold(events):
        state = initial
        for event in events:
            if catalog is None:
                state = evolve(state, *event)
            else:
                state = evolve(state, event if isinstance(event, Event)
                               else catalog.read(*event))
        return state
    return fold
