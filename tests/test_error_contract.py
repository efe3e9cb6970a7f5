"""The documented refusals are what the real services answer, per operation (issue 12
§9, issue 22 §3). Runs after every other test of the session (tests/conftest.py puts
it last) and reads what they received from real services (tests/contract.py)."""
import pytest

from tests import contract


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    contract.RECORDER.write(contract.output_folder())


def test_no_answer_carries_a_pair_its_document_does_not_list():
    wrong = sorted({f"{answer.pair} (in {answer.test})"
                    for answer in contract.RECORDER.undocumented()})
    assert wrong == [], "answered but not documented:\n" + "\n".join(wrong)


def test_every_documented_pair_is_answered_by_a_real_service_to_some_test():
    if not contract.WHOLE_RUN:
        pytest.skip("only a whole run (make test) produces every documented refusal")
    never = [str(pair) for pair in contract.RECORDER.never_answered()]
    assert never == [], (f"{len(never)} documented pairs never answered by a real service"
                         " to any test:\n" + "\n".join(never))
