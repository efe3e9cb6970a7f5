"""The pure helpers of the web pages: CSRF tokens, sealed values, the language, and
the mapping between the forms and the services' APIs (Q-5, F-1, F-2, C-2)."""
from services.web import forms, i18n, security

SECRET = "test-secret"


def test_a_csrf_token_is_valid_only_for_its_own_session():
    token = security.csrf_token(SECRET, "session-a")
    assert security.csrf_valid(SECRET, "session-a", token)
    assert not security.csrf_valid(SECRET, "session-b", token)
    assert not security.csrf_valid("other-secret", "session-a", token)
    assert not security.csrf_valid(SECRET, "session-a", "")
    assert not security.csrf_valid(SECRET, "", security.csrf_token(SECRET, ""))


def test_sealed_values_come_back_unless_altered():
    sealed = security.seal(SECRET, {"booking_id": "b-1", "name": "Leyla"})
    assert security.unseal(SECRET, sealed) == {"booking_id": "b-1", "name": "Leyla"}
    body, mac = sealed.split(".")
    assert security.unseal(SECRET, body[:-2] + "xx." + mac) is None
    assert security.unseal("other-secret", sealed) is None
    assert security.unseal(SECRET, "garbage") is None
    assert security.unseal(SECRET, None) is None


def test_azerbaijani_unless_english_was_chosen():
    assert i18n.choose_language() == "az"
    assert i18n.choose_language(cookie="en") == "en"
    assert i18n.choose_language(asked="az", cookie="en") == "az"
    assert i18n.choose_language(asked="ru", cookie="fr") == "az"
    assert i18n.pick({"az": "Ad", "en": "Name"}, "en") == "Name"
    assert all(az and en for az, en in i18n.TEXT.values())


def test_q5_empty_booking_fields_are_left_out_so_booking_names_them_required():
    payload = forms.booking_payload({"name": " Leyla ", "surname": "", "time": "10:15",
                                     "csrf_token": "x", "action": "send_code"}, "en")
    assert payload == {"name": "Leyla", "time": "10:15", "language": "en", "channel": "web"}


def test_free_times_need_the_centre_service_and_date():
    assert forms.slot_query({"centre": "baku-1", "service": "passport"}) is None
    assert forms.slot_query({"centre": "baku-1", "service": "passport",
                             "date": "2026-12-01"}) == ("baku-1", "passport", "2026-12-01")


def test_f1_f2_the_fin_form_picks_the_method():
    assert forms.fin_payload({"method": "id_card", "id_card": "aze12345678 "}) == (
        "id_card", {"id_card": "aze12345678", "channel": "web"})
    method, body = forms.fin_payload({"method": "name", "name": "Elçin", "surname": "",
                                      "patronymic": "Əli oğlu", "birth_date": "1985-04-17"})
    assert method == "name"
    assert body == {"name": "Elçin", "patronymic": "Əli oğlu", "birth_date": "1985-04-17",
                    "channel": "web"}


def test_c2_empty_identity_fields_are_sent_as_null():
    body = forms.complaint_payload({"service": "fin_lookup", "text": "", "name": "Rəşad",
                                    "email": ""}, "az")
    assert body["name"] == "Rəşad" and body["email"] is None and body["address"] is None
    assert "text" not in body and body["service"] == "fin_lookup" and body["language"] == "az"


def test_q5_every_reason_goes_to_the_panel_and_next_to_its_field():
    answer = {"message": {"az": "Məlumatlarda səhvlər var.", "en": "The data contains errors."},
              "reasons": [{"field": "email", "code": "email", "az": "E-poçt səhvdir",
                           "en": "Bad email"},
                          {"field": "contact", "code": "contact_required", "az": "Əlaqə",
                           "en": "A contact is required"},
                          {"field": None, "code": "x", "az": "Ümumi", "en": "General"}]}
    problems = forms.problems_from(answer, "en", ("email", "name"), "complaint-")
    assert problems.message == "The data contains errors."
    assert problems.panel == [("complaint-email", "Email", "Bad email"),
                              ("complaint-email", "Email", "A contact is required"),
                              (None, "", "General")]
    assert problems.of("email") == ["Bad email", "A contact is required"]
    assert problems.of("name") == []
    assert not forms.Problems()


def test_f5_the_citizen_address_is_the_peer_or_what_our_own_proxies_appended():
    from types import SimpleNamespace

    from shared.edge.clients import peer_address

    request = SimpleNamespace(remote_addr="127.0.0.1",
                              headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert peer_address(request, 0) == "127.0.0.1"
    assert peer_address(request, 1) == "203.0.113.7"  # not the client-written 6.6.6.6
    assert peer_address(SimpleNamespace(remote_addr="127.0.0.1", headers={}), 1) == \
        "127.0.0.1"


def test_issue_12_the_pages_forward_each_citizens_address_to_every_service(monkeypatch):
    """The pages call booking, complaints and the registry for many citizens from one
    address: each call carries the citizen's address and the pages' token, so the
    services' limits count two citizens behind the pages apart (F-5, issue 12)."""
    from types import SimpleNamespace

    from services.web import backends

    sent = []

    def fake_request(method, url, json=None, params=None, headers=None, timeout=None):
        sent.append((url, dict(headers)))
        return SimpleNamespace(status_code=202, json=lambda: {}, headers={})

    monkeypatch.setattr(backends.requests, "request", fake_request)
    urls = {name: f"http://{name}" for name in ("booking", "registry", "complaints")}
    for citizen in ("203.0.113.7", "198.51.100.9"):
        client = backends.Client(urls, 5, None, {}, frontend_token="pages-token")
        client.on_behalf_of(SimpleNamespace(remote_addr=citizen, headers={}))
        client.call("booking", "POST", "/bookings", json={})
        client.call("booking", "POST", "/bookings/cancel", json={})
        client.call("complaints", "POST", "/complaints", json={})
        client.call("registry", "POST", "/fin/by-id-card", json={})
    assert {(url, headers["X-Asan-Client-Address"], headers["Authorization"])
            for url, headers in sent} == {
        (f"http://{service}{path}", citizen, "Bearer pages-token")
        for citizen in ("203.0.113.7", "198.51.100.9")
        for service, path in (("booking", "/bookings"), ("booking", "/bookings/cancel"),
                              ("complaints", "/complaints"), ("registry", "/fin/by-id-card"))}
    sent.clear()
    backends.Client(urls, 5, None, {}).call("booking", "POST", "/bookings", json={})
    assert "X-Asan-Client-Address" not in sent[0][1]  # no page, no citizen to speak for


def test_issue_12_what_a_citizen_types_stays_one_path_segment_and_out_of_the_log(monkeypatch):
    """A centre typed as ``../../metrics?AZE…#`` must not walk the pages' call to another
    route of booking (it gave a 500 and a false 503), nor reach a log line."""
    import pytest

    from services.web import backends

    sent = []

    def fake_request(method, url, json=None, params=None, headers=None, timeout=None):
        sent.append(url)
        raise backends.requests.ConnectionError("refused")

    monkeypatch.setattr(backends.requests, "request", fake_request)
    client = backends.Client({"booking": "http://booking"}, 5, None, {})
    with pytest.raises(backends.Unavailable) as unavailable:
        client.call("booking", "GET", "/centres/{centre}/services/{service}/slots",
                    path={"centre": "../../metrics?AZE19300792 #", "service": "passport"})
    assert sent == ["http://booking/centres/..%2F..%2Fmetrics%3FAZE19300792%20%23/services/"
                    "passport/slots"]
    assert "AZE19300792" not in str(unavailable.value)
    assert "/centres/{centre}/services/{service}/slots" in str(unavailable.value)
