"""Issue 12 on the complaints service: the form put attacker text with a link into an
email sent from the agency's address to any recipient, 127 complaints from one
address in 10 s. Now names follow the booking form's rule (C-2 with shared.vocabulary.names),
free-text fields have sane lengths, an email repeats no typed text but the checked
name, and filing is rate-limited per client and per email."""
import json
from datetime import timedelta

import psycopg
import pytest
import requests
from prometheus_client import REGISTRY

from .test_complaints import FORM, STAFF, complaints  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
PHISHING = "Your account is blocked, log in at https://asan-login.example/verify"


def emails(database):
    with psycopg.connect(database) as conn:
        return [json.loads(bytes(body))["data"] for (body,) in conn.execute(
            "SELECT body FROM outbox WHERE routing_key = 'EmailRequested' ORDER BY id")]


def limited(limit):
    return REGISTRY.get_sample_value("asan_rate_limited_total",
                                     {"service": "complaints", "limit": limit}) or 0


def test_issue_12_attacker_text_with_a_link_in_a_name_is_refused_with_reasons(complaints):
    start, database, _ = complaints
    url = start()
    answer = requests.post(f"{url}/complaints", timeout=10, json=dict(
        FORM, name="Blocked: log in at https://asan.example", surname=PHISHING,
        patronymic="Əli qızı 2",
        address="x" * 301, workplace="y" * 201, email="victim@example.az"))
    assert answer.status_code == 400
    reasons = {(r["field"], r["code"]) for r in answer.json()["reasons"]}
    assert reasons == {("name", "letters"), ("surname", "length"), ("patronymic", "letters"),
                       ("address", "length"), ("workplace", "length")}
    assert all(r["az"] and r["en"] for r in answer.json()["reasons"])
    assert emails(database) == []
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM complaints").fetchone()[0] == 0


def test_issue_12_the_acknowledgement_repeats_only_the_checked_name(complaints):
    start, database, _ = complaints
    url = start()
    filed = requests.post(f"{url}/complaints", timeout=10, json=dict(
        FORM, name="  Leyla ", text=PHISHING, address=PHISHING, workplace=PHISHING))
    assert filed.status_code == 201, filed.text
    [email] = emails(database)
    assert email["template"] == "complaint_acknowledged"
    assert email["variables"] == {"name": "Leyla", "reference": filed.json()["reference"],
                                  "due_on": filed.json()["due_on"]}


def test_issue_12_an_old_complaint_with_any_name_is_answered_as_citizen(complaints):
    """A complaint filed before names were checked: the answer email (the staff's text)
    greets "citizen", never what was typed."""
    start, database, _ = complaints
    url = start()
    filed = requests.post(f"{url}/complaints", json=FORM, timeout=10).json()
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE complaints SET name = %s", (PHISHING,))
    answered = requests.post(f"{url}/staff/complaints/{filed['complaint_id']}/answer",
                             json={"decision": "resolved", "answer": "Kiosk düzəldildi."},
                             headers=STAFF, timeout=10)
    assert answered.status_code == 200
    answer_email = emails(database)[-1]
    assert answer_email["template"] == "complaint_answered"
    assert answer_email["variables"]["name"] == "vətəndaş"
    assert PHISHING not in json.dumps(answer_email, ensure_ascii=False)


def test_issue_12_127_complaints_from_one_address_are_answered_429_after_the_limit(complaints):
    start, database, clock = complaints
    url = start()
    before = limited("complaint_file")
    answers = [requests.post(f"{url}/complaints", timeout=10,
                             json=dict(FORM, email=f"v{n}@example.az"))
               for n in range(127)]
    assert [a.status_code for a in answers] == [201] * 10 + [429] * 117
    refused = answers[10]
    assert refused.json()["error"] == "too_many_requests"
    assert refused.headers["Retry-After"] == "360"  # one more every 6 minutes
    assert [r["code"] for r in refused.json()["reasons"]] == ["slow_down"]
    assert "6 minutes" in refused.json()["message"]["en"]
    assert limited("complaint_file") == before + 117
    assert len(emails(database)) == 10
    clock.now += timedelta(minutes=6)  # after the wait, one more
    assert requests.post(f"{url}/complaints", json=dict(FORM, email="later@example.az"),
                         timeout=10).status_code == 201


def test_issue_12_one_email_address_gets_at_most_three_acknowledgements_at_once(complaints):
    start, database, _ = complaints
    url = start()
    answers = [requests.post(f"{url}/complaints", json=dict(FORM, text=f"Şikayət {n}."),
                             timeout=10) for n in range(4)]  # four complaints, not one resent
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert [(r["field"], r["code"]) for r in answers[3].json()["reasons"]] == \
        [("email", "slow_down")]
    assert len(emails(database)) == 3


def test_issue_12_complaints_two_citizens_behind_the_pages_are_counted_apart(complaints):
    import hashlib

    start, _, _ = complaints
    url = start(RATE_LIMITS={"complaint_file": "10 per hour, burst 1"},
                FRONTEND_TOKEN_SHA256=[hashlib.sha256(b"pages").hexdigest()])

    def file(citizen, n):
        return requests.post(f"{url}/complaints", json=dict(FORM, email=f"{n}@example.az"),
                             headers={"Authorization": "Bearer pages",
                                      "X-Asan-Client-Address": citizen},
                             timeout=10).status_code

    assert [file("10.0.0.1", 1), file("10.0.0.1", 2), file("10.0.0.2", 3)] == [201, 429, 201]


def test_issue_12_withdrawing_by_guessed_references_is_slowed(complaints):
    start, _, _ = complaints
    url = start(RATE_LIMITS={"complaint_withdraw": "20 per hour, burst 3"})
    answers = [requests.post(f"{url}/complaints/withdraw", json={"reference": f"SK-{n}"},
                             timeout=10).status_code for n in range(4)]
    assert answers == [404, 404, 404, 429]
