"""A complaint once answered is closed (C-3): neither withdrawn nor assigned after, each
refused 409 ``closed`` in both languages, and nothing is recorded."""
import pytest
import requests

from .test_complaints import FORM, STAFF, complaints, events  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration
CLOSED = ("The complaint has already been answered or withdrawn.",
          "Şikayətə artıq baxılıb və ya geri götürülüb.")


def test_an_answered_complaint_is_neither_withdrawn_nor_assigned(complaints):
    start, database, _ = complaints
    url = start()
    filed = requests.post(f"{url}/complaints", json=FORM, timeout=30).json()
    complaint = f"{url}/staff/complaints/{filed['complaint_id']}"
    answered = requests.post(f"{complaint}/answer", headers=STAFF, timeout=30,
                             json={"decision": "resolved", "answer": "Kiosk düzəldildi."})
    assert answered.status_code == 200, answered.text
    history = events(database, filed["complaint_id"])
    assert history[-1] == "ComplaintAnswered"

    for refused in (requests.post(f"{url}/complaints/withdraw", timeout=30,
                                  json={"reference": filed["reference"]}),
                    requests.post(f"{complaint}/assign", headers=STAFF, timeout=30,
                                  json={"reviewer": "Nigar"})):
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "closed"
        assert (body["message"]["en"], body["message"]["az"]) == CLOSED
    assert events(database, filed["complaint_id"]) == history
