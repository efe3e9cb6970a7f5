"""Never a 500 for anything a client sends (non-negotiable 4, issue 12 §1): one test per
kind of hostile input that used to get a 500 (or a bare, non-JSON answer), sent to
the running services. Each is refused with a 4xx in the one error shape — an error
name, a bilingual message and at least one bilingual reason — before any handler
runs, so nothing is written."""
import json
import socket

import pytest
import requests

from shared.runtime.config import service_config
from tests.contract import RECORDER

pytestmark = pytest.mark.e2e


def url(service, path=""):
    return "http://" + service_config(service)["WEB_SERVER_ADDRESS"] + path


BOOKING, REGISTRY = url("booking"), url("registry")
COMPLAINTS, MONITORING = url("complaints"), url("monitoring")
KIOSK, NOTIFICATION, WEB = url("kiosk_gateway"), url("notification"), url("web")
STAFF = {"Authorization": "Bearer complaints-dev-token"}
REPORTS = {"Authorization": "Bearer monitoring-dev-token"}


def refused(response, status=400, error=None):
    """The one error shape, with every reason in both languages."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["message"]["az"] and body["message"]["en"]
    assert body["reasons"] and all(r["az"] and r["en"] for r in body["reasons"])
    if error:
        assert body["error"] == error, body
    return body


def raw_post(target, body, headers=None):
    return requests.post(target, data=body, timeout=10,
                         headers={"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize("target", [f"{BOOKING}/bookings", f"{REGISTRY}/fin/by-id-card",
                                    f"{COMPLAINTS}/complaints", f"{BOOKING}/bookings/cancel"])
@pytest.mark.parametrize("body, error", [
    ('{"name": "Ley\\u0000la", "id_card": "AZE1\\u00002345678"}', "invalid_characters"),  # NUL
    ('{"name": "\\ud800"}', "invalid_characters"),             # a lone surrogate
    ('{"order_code": "\\u0007\\u001b[31m"}', "invalid_characters"),  # control characters
    ('{"a": ' * 5000 + "1" + "}" * 5000, "invalid_json"),       # nesting that chokes a parser
    ('{"count": ' + "9" * 5000 + "}", "invalid_json"),           # a number too big for anything
    ('{"count": 1e400}', "invalid_json"),                        # not finite
    ('{"count": NaN}', "invalid_json"),
    ('{"count": -Infinity}', "invalid_json"),
    ("[1, 2]", "invalid_json"),                                  # not an object
    ('"just a string"', "invalid_json"),
    ("{", "invalid_json"),
])
def test_hostile_bodies_are_refused_with_reasons(target, body, error):
    refused(raw_post(target, body.encode("utf-8", "surrogatepass")), error=error)


def test_bytes_that_are_not_utf8_are_refused():
    refused(raw_post(f"{BOOKING}/bookings", b'{"name": "\xff\xfe"}'), error="invalid_characters")


def test_a_body_over_64_kb_is_a_413_in_the_same_shape():
    refused(raw_post(f"{COMPLAINTS}/complaints", b'{"text": "' + b"x" * 70000 + b'"}'),
            status=413, error="too_large")


@pytest.mark.parametrize("target", [
    f"{BOOKING}/centres/baku%001/services/passport/slots?date=2026-12-01",       # path
    f"{BOOKING}/centres/baku-1/services/passport/slots?date=2026-12-01%00",      # query
    f"{NOTIFICATION}/emails/booking-%00",
    f"{BOOKING}/centres/baku-1/services/pass%FFport/slots?date=2026-12-01",      # not UTF-8
    f"{MONITORING}/reports/control?day=2026-12-01&centre=%ED%A0%80",              # surrogate
])
def test_hostile_paths_and_queries_are_refused(target):
    refused(requests.get(target, headers=REPORTS, timeout=10), error="invalid_characters")


def test_a_url_over_8_kb_is_a_414_in_the_same_shape():
    refused(requests.get(f"{BOOKING}/centres?pad={'x' * 9000}", timeout=10), status=414,
            error="uri_too_long")


def _raw(service, data):
    host, port = service_config(service)["WEB_SERVER_ADDRESS"].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # and the client is done
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    while answer.startswith(b"HTTP/1.1 100"):  # an interim "100 Continue" first
        answer = answer.partition(b"\r\n\r\n")[2]
    head, _, body = answer.partition(b"\r\n\r\n")
    parsed = json.loads(body)
    # sent past `requests`: tell the error-name contract what came back (tests/contract.py)
    method, path = data.split(b" ", 2)[:2]
    RECORDER.record(method.decode(), f"http://{host}:{port}{path.decode()}",
                    int(head.split(b" ")[1]), parsed)
    return head, parsed


def test_a_header_line_too_long_is_a_431_in_the_same_shape():
    head, body = _raw("booking", b"GET /centres HTTP/1.1\r\nHost: x\r\nX-Long: " + b"y" * 9000
                      + b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 431") and b"application/json" in head
    assert body["error"] == "request_header_fields_too_large" and body["reasons"][0]["az"]


@pytest.mark.parametrize("service, request_bytes", [
    ("booking", b"POST /bookings HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
    ("registry", b"POST /fin/by-id-card HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                 b"\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),                      # malformed chunks
    ("complaints", b"POST /complaints HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                   b"\r\n\r\n10\r\n{\"a\""),                                  # cut short
    ("booking", b"POST /bookings HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                b"Content-Length: 100\r\n\r\n"),                                 # body never sent
])
def test_a_malformed_or_cut_short_body_is_a_400_not_a_500(service, request_bytes):
    head, body = _raw(service, request_bytes)
    assert b" 400 " in head.split(b"\r\n")[0] or head.split(b"\r\n")[0].endswith(b" 400"), head
    assert body["error"] == "bad_request" and body["reasons"][0]["en"]


FIN_NAME = {"name": "Leyla", "surname": "Əliyeva", "patronymic": "Əli qızı"}


@pytest.mark.parametrize("target, field, body", [
    (f"{BOOKING}/bookings", "date", {"date": "9999-12-31"}),
    (f"{BOOKING}/bookings", "date", {"date": "0001-01-01"}),
    (f"{REGISTRY}/fin/by-name", "birth_date", dict(FIN_NAME, birth_date="9999-12-31")),
    (f"{REGISTRY}/fin/by-name", "birth_date", dict(FIN_NAME, birth_date="0001-01-01")),
])
def test_dates_at_the_edge_of_their_range_are_refused_not_overflowed(target, field, body):
    answer = requests.post(target, json=body, timeout=10)
    assert field in {r["field"] for r in refused(answer)["reasons"]}


@pytest.mark.parametrize("received_on", ["9999-12-31", "0001-01-01"])
def test_a_paper_complaint_dated_at_the_edge_of_time_is_refused(received_on):
    answer = requests.post(f"{COMPLAINTS}/staff/complaints", headers=STAFF, timeout=10, json={
        "service": "queue_booking", "text": "Məktub", "name": "Leyla", "patronymic": "Əli qızı",
        "surname": "Məmmədova", "address": "Bakı", "workplace": "ADA",
        "received_on": received_on, "scan_reference": "scan-1"})
    assert "received_on" in {r["field"] for r in refused(answer)["reasons"]}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_report_of_a_day_at_the_edge_of_time_is_refused(day):
    answer = requests.get(f"{MONITORING}/reports/control", params={"day": day}, headers=REPORTS,
                          timeout=10)
    assert "day" in {r["field"] for r in refused(answer)["reasons"]}


def test_the_citizen_pages_refuse_a_form_with_control_characters():
    answer = requests.post(f"{WEB}/complaint", data=b"name=Ley%00la&csrf_token=x", timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    refused(answer, error="invalid_characters")
