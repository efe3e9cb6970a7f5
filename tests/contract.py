"""The error names each route documents, and the ones the services really answer.

Every HTTP response a test receives through ``requests`` (the e2e and integration
tests, and the property-based tests) is recorded when it is a refusal of one of our
documented routes: its service, method, route, status and error name. At the end of
the session ``tests/test_error_contract.py`` holds the two together (issue 12 §9):
no response carries a name its route does not document, and every name a document
lists was produced by some test.
"""
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.config import SERVICES
from shared.openapi import service_spec


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    pattern: re.Pattern
    errors: dict  # status → set of names


def documented_operations():
    operations = []
    for service in SERVICES:
        spec = service_spec(service)
        if spec is None:
            continue
        for path, methods in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in methods.items():
                errors = {}
                for status, response in operation["responses"].items():
                    if int(status) >= 400:
                        schema = response["content"]["application/json"]["schema"]
                        errors[int(status)] = set(schema["allOf"][1]["properties"]["error"]["enum"])
                operations.append(Operation(service, method.upper(), path, pattern, errors))
    return operations


OPERATIONS = documented_operations()


@dataclass(frozen=True)
class Observed:
    service: str
    method: str
    path: str
    status: int
    error: str | None
    test: str


class Recorder:
    """Collects the refusals of documented operations seen by the tests."""

    def __init__(self):
        self.seen = []
        self.current_test = None

    def record(self, method, url, status, body):
        if status < 400 or not isinstance(body, dict) or "error" not in body:
            return
        path = urlsplit(url).path
        # The path a server routes the URL to: a fixed path before a templated one
        # (werkzeug does the same), whatever the method.
        matching = sorted((op for op in OPERATIONS if op.pattern.match(path)),
                          key=lambda op: op.path.count("{"))
        if not matching:
            return
        routed = [op for op in matching if op.path == matching[0].path]
        for operation in routed:
            if operation.method == method.upper():
                self.seen.append(Observed(operation.service, operation.method, operation.path,
                                          status, body["error"], self.current_test))
                return

    def undocumented(self):
        """Refusals whose status or name their route does not document."""
        wrong = []
        for observed in self.seen:
            operation = next(op for op in OPERATIONS if (op.service, op.method, op.path) ==
                             (observed.service, observed.method, observed.path))
            if observed.error not in operation.errors.get(observed.status, set()):
                wrong.append(observed)
        return wrong

    def names_never_produced(self):
        documented = {name for op in OPERATIONS for names in op.errors.values() for name in names}
        return sorted(documented - {observed.error for observed in self.seen})


RECORDER = Recorder()
WHOLE_RUN = False  # set at collection: did this run collect every test file?


def install():
    """Record every response any ``requests`` call of the test process receives, and
    send each as the current test's citizen (``tests.citizens``)."""
    import requests

    from tests.citizens import identify

    original = requests.Session.send

    def send(self, request, **kwargs):
        identify(request)
        response = original(self, request, **kwargs)
        if response.status_code >= 400 and \
                response.headers.get("Content-Type", "").startswith("application/json"):
            try:
                body = response.json()
            except ValueError:
                body = None
            RECORDER.record(request.method, request.url, response.status_code, body)
        return response

    requests.Session.send = send
