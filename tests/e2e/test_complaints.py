"""Complaints end to end on the running platform: the complainant's emails (the
reference number, then the answer) are read from the mail sink (C-1, C-3, C-4)."""
import re
import uuid

import pytest
import requests

from shared.runtime.config import service_config
from shared.vocabulary.dates import day_text
from tests.mailbox import text_of, wait_for_mail

pytestmark = pytest.mark.e2e
URL = "http://" + service_config("complaints")["WEB_SERVER_ADDRESS"]
STAFF = {"Authorization": "Bearer complaints-dev-token"}


def test_the_whole_lifecycle_with_emails():
    email = f"complainant-{uuid.uuid4().hex[:10]}@example.az"
    filed = requests.post(f"{URL}/complaints", timeout=10, json={
        "service": "fin_lookup", "text": "FİN axtarışı cavab vermədi.", "name": "Rəşad",
        "patronymic": "Elçin oğlu", "surname": "Hüseynzadə", "address": "Gəncə, Atatürk pr. 5",
        "email": email, "language": "az"})
    assert filed.status_code == 201, filed.text
    reference = filed.json()["reference"]
    acknowledged = wait_for_mail(email, "complaint_acknowledged")
    assert reference in text_of(acknowledged)
    assert day_text(filed.json()["due_on"], "az") in text_of(acknowledged)  # as written here

    complaint = f"{URL}/staff/complaints/{filed.json()['complaint_id']}"
    assert requests.post(f"{complaint}/assign", json={"reviewer": "n.quliyeva"},
                         headers=STAFF, timeout=10).status_code == 200
    assert requests.post(f"{complaint}/answer", headers=STAFF, timeout=10, json={
        "decision": "rejected", "answer": "Sorğunuz düzgün doldurulmamışdı."}).status_code == 200
    answer = text_of(wait_for_mail(email, "complaint_answered"))
    assert "rədd edildi" in answer and re.search(re.escape(reference), answer)
    history = requests.get(complaint, headers=STAFF, timeout=10).json()["history"]
    assert [h["type"] for h in history] == ["ComplaintFiled", "ComplaintAcknowledged",
                                            "ComplaintAssigned", "ComplaintAnswered"]
