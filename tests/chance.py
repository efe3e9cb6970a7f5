"""The suite's random choices, reproducible.

A choice that can change what a test meets — which centre, day and time it books,
which person of the loaded population it asks for, in which order — comes from
:func:`rng`: a generator seeded with the run's seed and the test's id, so a test
makes the same choices whether it runs alone or in the whole suite. The seed is new
for each run; pytest prints it in its header and under every failed test, and
``ASAN_TEST_SEED=<seed>`` replays those choices.

What only has to be new — an ID card number, an email, a phone, a client address —
stays unseeded (``uuid``, ``random``): a replay must not collide with what the run it
replays left on the running platform. The platform's state is not replayed either: a
slot that run took is taken now, and a free-slot search moves on to its next choice.
"""
import os
import random
import secrets

SEED = int(os.environ.get("ASAN_TEST_SEED") or secrets.randbelow(2 ** 32))
_current = random.Random(f"{SEED}:")


def begin(nodeid):
    """Start the choices of the test ``nodeid`` (tests/conftest.py, before each test)."""
    global _current
    _current = random.Random(f"{SEED}:{nodeid}")


def rng():
    """The current test's seeded generator (a ``random.Random``)."""
    return _current


def replay_hint():
    """How to make the same choices again, for a report."""
    return f"random choices seeded with ASAN_TEST_SEED={SEED} (set it to replay them)"
