"""The repository stands on its own: README and docs/ name no file outside it, no issue
or seed of the project's tracker, and define every requirement id the tests use
(docs/REQUIREMENTS.md); and where two documents state the same fact, they agree with
each other and with the code."""
import re

import pytest
import yaml

from shared.runtime.config import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")),
        *sorted((REPO_ROOT / "docs" / "openapi").glob("*.json")),
        REPO_ROOT / "docs" / "asyncapi.yaml"]
OUTSIDE = [
    (re.compile(r"\.\./shared|MISSION\.md|STYLE\.md"), "a file outside the repository"),
    (re.compile(r"\b[Ii]ssues? #?\d+"), "an issue number"),
    (re.compile(r"\b[Ss]eeds?\b\s*(?:`|')?0\d\d|[Ss]eed \d+'s"), "a seed of the tracker"),
]
REQUIREMENTS = REPO_ROOT / "docs" / "REQUIREMENTS.md"
# Q-1 … D-5 in text (not a complaint's reference number such as C-017), and test names
# such as test_q1_… or test_d5_….
ID_IN_TEXT = re.compile(r"\b([QFCMD])-([1-9]\d?)\b")
ID_IN_NAME = re.compile(r"\bdef test_([qfcmd])(\d+)_")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_docs_point_nowhere_outside_the_repository(path):
    text = path.read_text("utf-8")
    for pattern, what in OUTSIDE:
        found = [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in pattern.finditer(text)]
        assert not found, f"{path.name}: {what} at line(s) {found}: explain it in place"


def defined_ids():
    return {f"{m.group(1)}-{m.group(2)}"
            for m in re.finditer(r"^- ([QFCMD])-(\d+) ", REQUIREMENTS.read_text("utf-8"), re.M)}


def test_the_requirement_list_is_in_the_repository():
    ids = defined_ids()
    for prefix, count in {"Q": 10, "F": 6, "C": 4, "M": 4, "D": 5}.items():
        assert {f"{prefix}-{n}" for n in range(1, count + 1)} <= ids, prefix


def test_every_requirement_id_the_tests_and_docs_use_is_defined():
    ids = defined_ids()
    used = {}
    for path in [*(REPO_ROOT / "tests").rglob("*.py"), *DOCS]:
        text = path.read_text("utf-8")
        for match in [*ID_IN_TEXT.finditer(text), *ID_IN_NAME.finditer(text)]:
            used.setdefault(f"{match.group(1).upper()}-{match.group(2)}", path)
    assert used
    unknown = {rid: str(path.relative_to(REPO_ROOT)) for rid, path in used.items()
               if rid not in ids}
    assert not unknown, f"not in docs/REQUIREMENTS.md: {unknown}"


def test_events_md_names_the_broker_the_asyncapi_document_names():
    servers = yaml.safe_load((REPO_ROOT / "docs" / "asyncapi.yaml").read_text("utf-8"))["servers"]
    host = servers["production"]["host"].rsplit(":", 1)[0]
    events = (REPO_ROOT / "docs" / "EVENTS.md").read_text("utf-8")
    named = set(re.findall(r"amqps?://[^@\s\"]*@([\w.-]+):\d+", events))
    assert named == {host}, (named, host)


def test_operations_md_gives_the_pages_backend_timeout_the_code_has():
    config = (REPO_ROOT / "services" / "web" / "config.yaml").read_text("utf-8")
    default = re.search(r"\$\{WEB_BACKEND_TIMEOUT_SECONDS:(\d+)\}", config).group(1)
    code = (REPO_ROOT / "services" / "web" / "backends.py").read_text("utf-8")
    # The code has no default of its own: it reads the typed settings of config.yaml.
    assert "settings.BACKEND_TIMEOUT_SECONDS" in code and "BACKEND_TIMEOUT_SECONDS\"," not in code
    operations = (REPO_ROOT / "docs" / "OPERATIONS.md").read_text("utf-8")
    stated = re.findall(r"`WEB_BACKEND_TIMEOUT_SECONDS` \((\d+)\)", operations)
    assert stated and set(stated) == {default}, stated
