"""The pure helpers of the counter page and the display board (issue 17 §2): what may
be a counter token, a press key or a centre code, and what of the gateway's answers
reaches the pages."""
from werkzeug.datastructures import MultiDict

from services.web import counter


def test_a_token_is_taken_as_pasted_but_never_with_what_would_break_a_header():
    assert counter.clean_token("  Bearer c-1.s3cr3t_Value-= ") == "c-1.s3cr3t_Value-="
    assert counter.clean_token("bearer abc.def") == "abc.def"
    for bad in (None, "", "   ", "a b", "a\r\nX-Evil: 1", "tok\u0259n", "x" * 257,
                "abc\u0661"):  # an Arabic-Indic digit is not an ASCII one
        assert counter.clean_token(bad) is None, bad


def test_a_press_key_is_sent_as_idempotency_key_only_when_it_can_be_one():
    key = counter.new_press_key()
    assert counter.press_headers({"press": key}) == {"Idempotency-Key": key}
    assert counter.new_press_key() != key
    for bad in ("", "short", "a\nb" * 10, "ä" * 20):
        assert counter.press_headers({"press": bad}) == {}
    assert counter.press_headers({}) == {}


def test_a_centre_code_is_lower_case_letters_digits_and_hyphens():
    assert counter.centre_code("baku-1") == "baku-1"
    for bad in ("Baku-1", "-x", "", "baku 1", "baku/1", "a" * 65, "bakı"):
        assert counter.centre_code(bad) is None, bad


def test_the_board_shows_numbers_counters_and_services_only_newest_first():
    answer = {"centre": {"code": "quba", "az": "Quba", "en": "Guba"}, "waiting": 4,
              "at": "2026-11-24T10:06:00+04:00", "secret": "x",
              "called": [{"number": "PW-002", "counter": "Masa 5", "status": "called",
                          "service": {"code": "passport", "az": "Pasport", "en": "Passport"},
                          "called_at": "2026-11-24T06:05:30+00:00", "recalls": 1,
                          "fin": "5ABCD12"},
                         {"number": "PW-001", "counter": "Masa 3", "status": "served",
                          "service": {"code": "passport"}, "called_at": "bad",
                          "recalls": True}] + [{"number": str(n)} for n in range(20)]}
    view = counter.board_view(answer)
    assert view["centre"] == {"code": "quba", "az": "Quba", "en": "Guba"}
    assert view["waiting"] == 4 and len(view["called"]) == counter.BOARD_ROWS
    assert view["called"][0] == {"number": "PW-002", "counter": "Masa 5", "time": "10:05",
                                 "recalls": 1, "done": False,
                                 "service": {"code": "passport", "az": "Pasport",
                                             "en": "Passport"}}
    assert view["called"][1]["done"] and view["called"][1]["time"] == ""
    assert view["called"][1]["recalls"] == 0  # a bool is not a count
    assert view["called"][1]["service"] == {"code": "passport", "az": "passport",
                                            "en": "passport"}
    assert "secret" not in view and "fin" not in view["called"][0]
    # issue 23 §5: the board's day (Baku) with its weekday in both languages
    assert view["day"] == {"az": "çərşənbə axşamı, 24.11.2026", "en": "Tuesday, 24.11.2026"}
    assert counter.board_view(None) == {"centre": {"code": "", "az": "", "en": ""},
                                        "called": [], "waiting": 0, "at": "", "day": None}


def test_a_refusal_is_given_in_the_pages_language_first_then_the_other():
    body = {"error": "recall_first", "message": {"az": "Əvvəlcə təkrar çağırın.",
                                                 "en": "Recall first."}}
    assert counter.both_languages(body, "en") == [("en", "Recall first."),
                                                  ("az", "Əvvəlcə təkrar çağırın.")]
    assert counter.both_languages(body, "az")[0] == ("az", "Əvvəlcə təkrar çağırın.")
    assert counter.both_languages("not json", "az") == []


def test_sign_in_sends_only_the_centres_services_in_their_order():
    form = MultiDict([("services", "passport"), ("services", "nowhere"),
                      ("services", "apostille")])
    assert counter.sign_in_payload(form, ["apostille", "certificates", "passport"]) == {
        "services": ["apostille", "passport"]}
    assert counter.sign_in_payload(MultiDict(), ["passport"]) == {"services": []}


def test_the_current_ticket_in_baku_time():
    view = {"recalls_allowed": 2, "current": {
        "number": "PW-001", "service": {"code": "passport", "az": "Pasport", "en": "Passport"},
        "booked_time": None, "issued_at": "2026-11-24T06:01:00+00:00",
        "called_at": "2026-11-24T10:05:00+04:00", "recalls": 1}}
    assert counter.current_ticket(view, "en") == {
        "number": "PW-001", "service": "passport", "service_name": "Passport",
        "booked_time": None, "issued": "10:01", "called": "10:05", "recalls": 1,
        "recalls_allowed": 2}
    assert counter.current_ticket({"current": None}, "az") is None
    assert counter.baku_clock("2026-11-24T10:05:00") == ""  # no offset: not an instant


def test_viewers_of_a_board_share_one_read_of_the_gateway_and_refusals_are_not_kept(
        monkeypatch):
    """However many screens and phones poll a board through one pages process, the
    gateway reads it at most once per BOARD_TTL_SECONDS; made-up centres are never
    kept (they cannot fill the memory)."""
    from types import SimpleNamespace

    from services.web import backends

    sent, clock = [], [1000.0]

    def fake_request(method, url, json=None, params=None, headers=None, timeout=None):
        sent.append(url)
        status = 200 if url.endswith("/quba/board") else 404
        return SimpleNamespace(status_code=status, json=lambda: {"called": []}, headers={})

    monkeypatch.setattr(backends.requests, "request", fake_request)
    monkeypatch.setattr(backends.time, "monotonic", lambda: clock[0])
    cache = {}
    for _ in range(50):  # fifty viewers within the same half second
        client = backends.Client({"kiosk_gateway": "http://gw"}, 5, None, cache)
        assert client.board("quba").ok
        assert client.board("nowhere").status == 404
    assert sent.count("http://gw/centres/quba/board") == 1
    assert sent.count("http://gw/centres/nowhere/board") == 50
    assert list(cache) == [("board", "quba")]
    clock[0] += backends.BOARD_TTL_SECONDS
    client.board("quba")
    assert sent.count("http://gw/centres/quba/board") == 2
