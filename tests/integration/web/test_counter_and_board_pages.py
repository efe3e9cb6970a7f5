"""Issue 17 §2 without a browser: the counter page (a token kept in an HttpOnly,
SameSite=Strict cookie for /counter only, every action a CSRF-protected POST answered
by a redirect, the gateway's refusals shown in both languages) and the display board
(HTML that refreshes itself without JavaScript, JSON for its script), against a fake
gateway; never a 500 for anything a client sends."""
import re

import pytest
import requests

from tests import fake_gateway

TOKEN = "c-1.s3cr3t-Token_value"


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


class Staff:
    """A staff browser without JavaScript: a requests session that reads each page's
    CSRF token and posts the forms."""

    def __init__(self, url):
        self.url, self.session = url, requests.Session()
        self.page = self.session.get(url + "/counter", timeout=10)

    def post(self, path, **form):
        answer = self.session.post(self.url + path, data=dict(
            form, csrf_token=csrf_of(self.page.text)), timeout=10, allow_redirects=False)
        if answer.status_code == 303:
            assert answer.headers["Location"] == "/counter"
            self.page = self.session.get(self.url + "/counter", timeout=10)
        else:
            self.page = answer
        return answer


def signed_in(pages, services=("passport",)):
    fake_gateway.STATE.add_counter(TOKEN, "Masa 3")
    staff = Staff(pages.url)
    staff.post("/counter/token", token=f"  Bearer {TOKEN} ")
    staff.post("/counter/sign-in", services=list(services))
    return staff


def test_the_counter_token_is_kept_httponly_strict_for_the_counter_page_only(pages):
    fake_gateway.STATE.add_counter(TOKEN, "Masa 3")
    staff = Staff(pages.url)
    assert staff.page.status_code == 200 and 'name="token"' in staff.page.text
    answer = staff.post("/counter/token", token=TOKEN)
    assert answer.status_code == 303
    cookie = [c for c in answer.raw.headers.getlist("Set-Cookie") if "asan_counter=" in c][0]
    assert f"asan_counter={TOKEN}" in cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/counter"):
        assert attribute in cookie
    assert TOKEN not in staff.page.text  # never written into a page
    assert "Masa 3" in staff.page.text and "Quba ASAN" in staff.page.text
    assert 'name="services"' in staff.page.text  # not serving yet: choose the services
    assert staff.page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in staff.page.headers["Content-Security-Policy"]
    assert '<script src="/static/counter.js" defer></script>' in staff.page.text


@pytest.mark.parametrize("typed", ["", "nope", "a\nb", "Bearer", "tok\u0259n", "x" * 300,
                                   "c-1.s3cr3t\r\nX-Evil: 1"])
def test_a_wrong_or_malformed_token_is_refused_in_both_languages_never_kept(pages, typed):
    staff = Staff(pages.url)
    answer = staff.post("/counter/token", token=typed)
    assert answer.status_code == 401
    assert not re.search(r"asan_counter=[^;]", answer.headers.get("Set-Cookie", ""))
    assert 'role="alert"' in answer.text and 'lang="en"' in answer.text


def test_a_revoked_token_is_forgotten_by_the_browser(pages):
    staff = signed_in(pages)
    del fake_gateway.STATE.counters[TOKEN]  # revoked by the administrators
    page = staff.session.get(pages.url + "/counter", timeout=10)
    assert page.status_code == 401 and "The counter token is not known." in page.text
    assert "Masanın açarı tanınmır." in page.text  # both languages
    assert "asan_counter=;" in page.headers["Set-Cookie"]
    assert "asan_counter" not in staff.session.cookies


def test_a_counters_day_call_recall_no_show_transfer_served(pages):
    staff = signed_in(pages, ["passport", "certificates"])
    assert 'id="counter-call-next"' in staff.page.text
    assert staff.post("/counter/call-next").status_code == 404  # nobody waiting
    assert "Nobody is waiting." in staff.page.text and "az: Nobody is waiting." in staff.page.text
    for number in ("P-001", "P-002", "P-003"):
        fake_gateway.STATE.issue("passport", number)

    staff.post("/counter/call-next")
    assert re.search(r'id="current-number">P-001<', staff.page.text)
    assert 'data-key="R"' in staff.page.text and 'aria-keyshortcuts="S"' in staff.page.text
    answer = staff.post("/counter/no-show")
    assert answer.status_code == 409  # recall first, said in both languages
    assert "Recall the ticket first." in answer.text and "Əvvəlcə bileti" in answer.text
    assert re.search(r'id="current-number">P-001<', answer.text)  # still the current one
    staff.post("/counter/recall")
    staff.post("/counter/recall")
    assert re.search(r'id="current-recalls">2 / 2<', staff.page.text)
    assert staff.post("/counter/no-show").status_code == 303

    staff.post("/counter/call-next")
    assert re.search(r'id="current-number">P-002<', staff.page.text)
    assert staff.post("/counter/transfer", service="passport").status_code == 409
    assert staff.post("/counter/transfer", service="nowhere").status_code == 404
    assert staff.post("/counter/transfer", service="certificates").status_code == 303
    assert fake_gateway.STATE.waiting["certificates"] == ["P-002"]

    staff.post("/counter/call-next")  # certificates first now: the transferred ticket
    assert re.search(r'id="current-number">P-002<', staff.page.text)
    assert staff.post("/counter/served").status_code == 303
    staff.post("/counter/call-next")
    assert re.search(r'id="current-number">P-003<', staff.page.text)
    assert staff.post("/counter/served").status_code == 303
    assert 'id="current-none"' in staff.page.text
    assert staff.post("/counter/sign-out").status_code == 303
    assert 'name="services"' in staff.page.text


def test_signing_in_without_a_service_is_refused_with_the_reason(pages):
    fake_gateway.STATE.add_counter(TOKEN, "Masa 3")
    staff = Staff(pages.url)
    staff.post("/counter/token", token=TOKEN)
    answer = staff.post("/counter/sign-in")
    assert answer.status_code == 400 and "The data contains errors." in answer.text
    assert "Məlumatlarda səhvlər var." in answer.text


def test_every_counter_post_needs_the_csrf_token_and_the_cookie(pages):
    signed_in(pages)
    for path in ("/counter/token", "/counter/call-next", "/counter/served", "/counter/forget"):
        bare = requests.post(pages.url + path, data={"token": TOKEN}, timeout=10,
                             allow_redirects=False)
        assert bare.status_code == 403, path
    # a session with a valid CSRF token but no counter cookie: back to the token form
    staff = Staff(pages.url)
    answer = staff.post("/counter/call-next")
    assert answer.status_code == 303 and 'name="token"' in staff.page.text
    assert staff.post("/counter/unknown-action").status_code == 404


def test_forgetting_the_counter_deletes_the_cookie(pages):
    staff = signed_in(pages)
    staff.post("/counter/forget")
    assert "asan_counter" not in staff.session.cookies
    assert 'name="token"' in staff.page.text


def test_the_board_without_javascript_refreshes_itself_and_shows_numbers_only(pages):
    fake_gateway.STATE.called = [
        {"number": "P-007", "counter": "Masa 3", "called_at": "2026-11-30T07:05:00+00:00",
         "service": {"code": "passport", "az": "Pasport", "en": "Passport"}, "recalls": 0,
         "name": "Leyla"}]  # anything the gateway would add is not shown
    board = requests.get(pages.url + "/board/quba", timeout=10)
    assert board.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in board.text
    assert '<script src="/static/board.js" defer></script>' in board.text
    assert "P-007" in board.text and "Masa 3" in board.text and "Leyla" not in board.text
    assert "Quba ASAN xidmət mərkəzi" in board.text and "Guba ASAN service centre" in board.text
    assert "Set-Cookie" not in board.headers  # the same for every screen
    data = requests.get(pages.url + "/board/quba.json", timeout=10)
    assert data.status_code == 200 and data.headers["Cache-Control"] == "no-store"
    assert data.json()["called"] == [{"number": "P-007", "counter": "Masa 3", "time": "11:05",
                                      "recalls": 0, "done": False,
                                      "service": {"code": "passport",
                                                                "az": "Pasport",
                                                                "en": "Passport"}}]
    script = requests.get(pages.url + "/static/board.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]


@pytest.mark.parametrize("centre", ["nowhere", "QUBA", "a" * 300, "%C9%99", "quba.json.json"])
def test_an_unknown_centre_is_a_404_board_in_both_languages(pages, centre):
    board = requests.get(f"{pages.url}/board/{centre}", timeout=10)
    assert board.status_code == 404, centre
    assert "Belə mərkəz yoxdur" in board.text and "There is no such centre" in board.text
    data = requests.get(f"{pages.url}/board/{centre}.json", timeout=10)
    assert data.status_code == 404 and data.json()["error"] == "unknown_centre", centre


@pytest.mark.parametrize("centre", ["%2e%2e%2fmetrics", "quba%00", "quba%0d%0a", "%ff",
                                    "quba%3Fx%3D1", "quba%23"])
def test_whatever_is_typed_for_a_centre_is_never_a_500(pages, centre):
    for suffix in ("", ".json"):
        answer = requests.get(f"{pages.url}/board/{centre}{suffix}", timeout=10)
        assert answer.status_code in (400, 404), (centre, suffix)


def test_a_board_whose_gateway_fails_says_so_and_tries_again(start_pages):
    from tests.conftest import unused_port

    pages = start_pages(gateway_url=f"http://127.0.0.1:{unused_port()}")  # nobody there
    board = requests.get(pages.url + "/board/quba", timeout=10)
    assert board.status_code == 503
    assert '<meta http-equiv="refresh" content="5">' in board.text  # recovers by itself
    assert "Reconnecting" in board.text
    data = requests.get(pages.url + "/board/quba.json", timeout=10)
    assert data.status_code == 503 and data.json()["error"] == "unavailable"
    page = requests.get(pages.url + "/counter", timeout=10, cookies={"asan_counter": TOKEN})
    assert page.status_code == 503  # the counter page: "try again shortly"


def test_a_gateway_fault_is_a_503_board_not_a_500(pages):
    fake_gateway.STATE.broken = True
    assert requests.get(pages.url + "/board/quba", timeout=10).status_code == 503
    assert requests.get(pages.url + "/board/quba.json", timeout=10).status_code == 503
