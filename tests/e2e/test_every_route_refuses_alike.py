"""The refusals every route of a kind shares, from each documented operation of each
running service (issue 12 §1, §9; issue 22 §3).

The input boundary and the HTTP layer answer them before any handler runs
(shared.edge.boundary, shared.edge.http), the same code for every route — and the documents list
them on every operation, so the error-name contract (tests/contract.py) wants each
operation seen giving each one: a URL over 8 KB (414 ``uri_too_long``), a control
character in it (400 ``invalid_characters``), a header line over 8 KB (431
``request_header_fields_too_large``), a malformed request (400 ``bad_request``); a
wrong token (401 ``unauthorized``) where a token is needed; a body that is not JSON
(400 ``invalid_json``) or over 64 KB (413 ``too_large``) where a body is taken; a
path value the router cannot take (404 ``not_found``); and, while the service has as
many requests in hand as it takes (``HTTP_MAX_PENDING``), 503 ``unavailable`` at once.
"""
import json
import os
import re
import socket
import time
import uuid
from contextlib import contextmanager

import eventlet
import psycopg
import pytest
import requests

from shared.runtime.config import service_config
from shared.edge.http import UNBOUNDED_ROUTES, max_pending
from tests import contract

pytestmark = pytest.mark.e2e
OPERATIONS = {f"{op.service} {op.method} {op.route}": op for op in contract.OPERATIONS}
NEVER_SECONDS = 30  # a deadline that only catches "never"


def base(service):
    return "http://" + service_config(service)["WEB_SERVER_ADDRESS"]


def _shape(route):
    return re.sub(r"{[a-z_]+}", "{}", route)


def converters(service):
    """``{(METHOD, route shape): [werkzeug converter of each path parameter]}`` of the
    service's HTTP entrypoints, as the service class declares them (the shape: the
    route with its parameters unnamed, ``/reports/{}``)."""
    import importlib

    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    module = importlib.import_module(f"services.{service}.service")
    found = {}
    for value in vars(module).values():
        if not (isinstance(value, type) and getattr(value, "name", None) == service):
            continue
        for method in (m for klass in value.__mro__ for m in vars(klass).values()):
            for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if not hasattr(entrypoint, "route_template"):
                    continue
                kinds = [kind or "default" for kind, _ in re.findall(
                    r"<(?:([a-z]+):)?([a-z_]+)>", entrypoint.url)]
                found[(entrypoint.method, _shape(entrypoint.route_template))] = kinds
    return found


def url(op, value=None, broken=None):
    """The operation's URL with each path parameter a value the router takes (or
    ``value``), or with ``broken`` filled with one it cannot take."""
    kinds = converters(op.service)[(op.method, _shape(op.route))]
    path = op.route
    for name, kind in zip(op.params, kinds):
        if name == broken:
            if kind == "uuid":
                filled = "not-a-uuid"
            elif kind == "path":
                filled = "a%0Ab"  # a path converter takes any characters but a line break
            else:
                filled = "a%2Fb"  # a slash: one more path segment
        else:
            filled = value or (str(uuid.uuid4()) if kind == "uuid" else "x1")
        path = path.replace("{" + name + "}", filled)
    return base(op.service) + path


def refused(answer, status, error):
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["error"] == error, body
    assert body["message"]["az"] and body["message"]["en"]
    assert body["reasons"] and all(r["az"] and r["en"] for r in body["reasons"])


def raw(op, lines):
    """Sends ``lines`` (the request after its request line) to the operation's service
    past ``requests``, tells the contract what came back, and returns (status, body)."""
    target = url(op)
    host, port = service_config(op.service)["WEB_SERVER_ADDRESS"].split(":")
    path = target.split(f"{host}:{port}", 1)[1]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"{op.method} {path} HTTP/1.1\r\n".encode() + lines)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, parsed = int(head.split(b" ")[1]), json.loads(body)
    contract.RECORDER.record(op.method, target, status, parsed)
    return status, parsed


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operation_answers_the_boundarys_refusals_by_their_documented_names(name):
    op = OPERATIONS[name]
    send = getattr(requests, op.method.lower())
    refused(send(url(op) + "?pad=" + "x" * 9000, timeout=30), 414, "uri_too_long")
    refused(send(url(op) + "?q=%00", timeout=30), 400, "invalid_characters")
    status, body = raw(op, b"Host: x\r\nX-Long: " + b"y" * 9000 + b"\r\n\r\n")
    assert (status, body["error"]) == (431, "request_header_fields_too_large")
    status, body = raw(op, b"Host: x\r\nContent-Length: -5\r\n\r\n")
    assert (status, body["error"]) == (400, "bad_request")
    if op.secured:
        refused(send(url(op), timeout=30, headers={"Authorization": "Bearer not-a-token"}),
                401, "unauthorized")
    if op.body:
        headers = {"Content-Type": "application/json"}
        refused(send(url(op), data=b"{", headers=headers, timeout=30), 400, "invalid_json")
        refused(send(url(op), data=b'{"text": "' + b"x" * 70000 + b'"}', headers=headers,
                     timeout=30), 413, "too_large")
    for param in op.params:
        refused(send(url(op, broken=param), timeout=30), 404, "not_found")


@contextmanager
def requests_in_hand(service):
    """The service holds as many requests as it takes (``HTTP_MAX_PENDING``), each a
    POST whose body never comes, until the block ends. With ``SCALE`` processes of
    each service the kernel shares the connections out among them: twice as many
    each, so that every process is full."""
    scale = int(os.environ.get("SCALE") or 1)
    limit = max_pending(service_config(service)) * (1 if scale == 1 else 2 * scale)
    hold = next(op for op in contract.OPERATIONS
                if op.service == service and op.method == "POST" and op.body)
    host, port = service_config(service)["WEB_SERVER_ADDRESS"].split(":")
    path = url(hold).split(f"{host}:{port}", 1)[1]
    held = []
    try:
        for _ in range(limit):
            sock = socket.create_connection((host, int(port)), timeout=30)
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                         "\r\nContent-Length: 10\r\n\r\n".encode())
            held.append(sock)
        yield
    finally:
        for sock in held:
            sock.close()


def until_refused(send, deadline):
    """``send()``'s answer once it is a 503 (the held requests may still be on their way
    in), or the last one at ``deadline``."""
    while True:
        answer = send()
        if answer.status_code == 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.mark.parametrize("service", ["booking", "kiosk_gateway", "registry", "complaints",
                                     "monitoring"])
def test_every_operation_of_an_overloaded_service_answers_503_at_once(service):
    """Overload is answered, not queued (issue 15 §5): with ``HTTP_MAX_PENDING``
    requests in hand every route says 503 ``unavailable``, and serves again after."""
    operations = [op for op in contract.OPERATIONS
                  if op.service == service and op.route not in UNBOUNDED_ROUTES]
    with requests_in_hand(service):
        deadline = time.monotonic() + NEVER_SECONDS
        for op in operations:
            send = getattr(requests, op.method.lower())
            answer = until_refused(lambda: send(url(op), timeout=30), deadline)
            refused(answer, 503, "unavailable")
            assert answer.headers["Retry-After"] == "1"
    deadline = time.monotonic() + NEVER_SECONDS
    while requests.get(base(service) + "/health", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, f"{service} did not come back"
        time.sleep(0.1)


def test_the_notification_route_answers_503_while_its_database_does_not():
    """Notification has no route that takes a body to hold: its email history waits on
    its table, locked here, until the requests in hand are too many or the database too
    slow — 503 ``unavailable`` either way, never a 500. (Its other bounded routes while
    its hands are full: tests/integration/notification/test_overload.py.)"""
    (op,) = [op for op in contract.OPERATIONS
             if op.service == "notification" and op.route.startswith("/emails/")]
    target = url(op, value="booking-contract-check")
    staff = {"Authorization": "Bearer operator-dev-token"}
    config = service_config("notification")
    with psycopg.connect(config["DATABASE_URL"]) as conn:
        conn.execute("LOCK TABLE emails IN ACCESS EXCLUSIVE MODE")
        waiting = [eventlet.spawn(requests.get, target, headers=staff, timeout=120)
                   for _ in range(max_pending(config))]
        answer = until_refused(lambda: requests.get(target, headers=staff, timeout=60),
                               time.monotonic() + NEVER_SECONDS)
        conn.rollback()
    refused(answer, 503, "unavailable")
    assert {each.wait().status_code for each in waiting} <= {200, 503}
