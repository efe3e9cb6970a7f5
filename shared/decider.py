"""What every service's decider (``services/<name>/domain.py``) shares: folding a
stream's events into its state (D-1: state is the fold of events)."""


def folder(initial, evolve):
    """The ``fold(events)`` of a decider: the state ``events`` — ``(event_type, data)``
    pairs of one stream, oldest first — leave when each is applied with
    ``evolve(state, event_type, data)`` to ``initial`` (an immutable state: it is
    shared by every fold). What ``UnitOfWork.load`` takes."""
    def fold(events):
        state = initial
        for event_type, data in events:
            state = evolve(state, event_type, data)
        return state
    return fold
