"""Documented error names are what the API returns (issue 12 §9). Runs after every
other test of the session and reads what they received (tests/contract.py)."""
import pytest

from tests import contract


def test_no_response_carries_an_error_name_its_route_does_not_document():
    wrong = [f"{o.method} {o.path} ({o.service}) answered {o.status} {o.error!r} in {o.test}"
             for o in contract.RECORDER.undocumented()]
    assert wrong == []


def test_every_documented_error_name_is_produced_by_some_test():
    if not contract.WHOLE_RUN:
        pytest.skip("only a whole run (make test) produces every documented refusal")
    never = contract.RECORDER.names_never_produced()
    assert never == [], f"documented but never answered to any test: {never}"
