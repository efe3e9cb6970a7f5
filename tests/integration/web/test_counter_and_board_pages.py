"""Issue 17 §2 without a browser: the counter page (a token kept in an HttpOnly,
SameSite=Strict cookie for /counter only, every action a CSRF-protected POST answered
by a redirect, the gateway's refusals shown in both languages) and the display board
(HTML that refreshes itself without JavaScript, JSON for its script), against the real
kiosk gateway and booking on a clock at which the centre is open (``open_centre``,
conftest.py); never a 500 for anything a client sends."""
import html
import re

import psycopg
import pytest
import requests

from services.web.counter import baku_clock

from .conftest import CENTRE

pytestmark = pytest.mark.integration

UNKNOWN_COUNTER = ("Unknown or revoked counter.", "Masa tanınmadı və ya ləğv olunub.")
NOT_A_TOKEN = ("This is not a counter token: enter the token the administrators gave, as it is.",
               "Bu, masa açarı deyil: administratorun verdiyi açarı olduğu kimi daxil edin.")


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def current_number(page):
    found = re.search(r'id="current-number">([^<]*)<', page.text)
    return found.group(1) if found else None


def waiting(page, service):
    return int(re.search(rf'id="waiting-{service}">(\d+)<', page.text).group(1))


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


def said(page, *texts):
    """The page's alert says each of ``texts``."""
    alert = re.search(r'role="alert".*?</div>', page.text, re.S)
    assert alert, page.text
    for text in texts:
        assert text in html.unescape(alert.group(0)), (text, alert.group(0))


def signed_in(centre, token, services=("passport",)):
    staff = Staff(centre.pages.url)
    assert staff.post("/counter/token", token=f"  Bearer {token} ").status_code == 303
    assert staff.post("/counter/sign-in", services=list(services)).status_code == 303
    return staff


def test_the_counter_token_is_kept_httponly_strict_for_the_counter_page_only(open_centre):
    token = open_centre.counter("Masa 3")
    staff = Staff(open_centre.pages.url)
    assert staff.page.status_code == 200 and 'name="token"' in staff.page.text
    answer = staff.post("/counter/token", token=token)
    assert answer.status_code == 303
    cookie = [c for c in answer.raw.headers.getlist("Set-Cookie") if "asan_counter=" in c][0]
    assert f"asan_counter={token}" in cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/counter"):
        assert attribute in cookie
    assert token not in staff.page.text  # never written into a page
    assert "Masa 3" in staff.page.text and "Quba ASAN" in staff.page.text
    assert 'name="services"' in staff.page.text  # not serving yet: choose the services
    assert staff.page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in staff.page.headers["Content-Security-Policy"]
    assert '<script src="/static/counter.js" defer></script>' in staff.page.text


@pytest.mark.parametrize("typed, words", [
    ("", NOT_A_TOKEN), ("a\nb", NOT_A_TOKEN), ("Bearer", UNKNOWN_COUNTER),
    ("tok\u0259n", NOT_A_TOKEN), ("x" * 300, NOT_A_TOKEN),
    ("c-1.s3cr3t\r\nX-Evil: 1", NOT_A_TOKEN),
    ("nope", UNKNOWN_COUNTER), ("c-0.not-a-real-token", UNKNOWN_COUNTER)])
def test_a_wrong_or_malformed_token_is_refused_in_both_languages_never_kept(open_centre, typed,
                                                                          words):
    """What cannot be a token is refused by the pages without a call; a well-formed
    token the gateway does not know, with the gateway's own words."""
    staff = Staff(open_centre.pages.url)
    answer = staff.post("/counter/token", token=typed)
    assert answer.status_code == 401
    assert not re.search(r"asan_counter=[^;]", answer.headers.get("Set-Cookie", ""))
    assert "asan_counter" not in staff.session.cookies
    said(answer, *words)


def test_a_revoked_token_is_forgotten_by_the_browser(open_centre):
    registered = open_centre.register("Masa 3")
    staff = signed_in(open_centre, registered["token"])
    open_centre.revoke(registered["counter_id"])  # by the administrators
    page = staff.session.get(open_centre.pages.url + "/counter", timeout=10)
    assert page.status_code == 401 and 'name="token"' in page.text
    said(page, *UNKNOWN_COUNTER)  # the gateway's words, in both languages
    assert "asan_counter=;" in page.headers["Set-Cookie"]
    assert "asan_counter" not in staff.session.cookies


def test_a_counters_day_call_recall_no_show_transfer_served(open_centre):
    token = open_centre.counter("Masa 3")
    staff = signed_in(open_centre, token, ["passport", "certificates"])
    assert 'id="counter-call-next"' in staff.page.text
    answer = staff.post("/counter/call-next")
    assert answer.status_code == 404  # said in both languages, in the gateway's words
    said(answer, "Nobody is waiting for this counter's services.",
         "Seçilmiş xidmətlər üzrə növbədə gözləyən yoxdur.")
    first, second, third = (open_centre.issue() for _ in range(3))

    staff.post("/counter/call-next")
    assert current_number(staff.page) == first
    assert 'data-key="R"' in staff.page.text and 'aria-keyshortcuts="S"' in staff.page.text
    answer = staff.post("/counter/no-show")
    assert answer.status_code == 409
    said(answer, "A no-show is recorded only after 2 recalls.",
         "\"Gəlmədi\" yalnız 2 təkrar çağırışdan sonra qeyd olunur.")
    assert current_number(answer) == first  # still the current one
    staff.post("/counter/recall")
    staff.post("/counter/recall")
    assert re.search(r'id="current-recalls">2 / 2<', staff.page.text)
    answer = staff.post("/counter/recall")
    assert answer.status_code == 409
    said(answer, "The ticket was recalled 2 times already: record a no-show.",
         "Bilet artıq 2 dəfə təkrar çağırılıb: \"gəlmədi\" qeyd edin.")
    assert staff.post("/counter/no-show").status_code == 303
    assert 'id="current-none"' in staff.page.text

    staff.post("/counter/call-next")
    assert current_number(staff.page) == second
    answer = staff.post("/counter/transfer", service="passport")
    assert answer.status_code == 409 and current_number(answer) == second
    said(answer, "The ticket is in this service's queue already.",
         "Bilet artıq bu xidmətin növbəsindədir.")
    answer = staff.post("/counter/transfer", service="nowhere")
    assert answer.status_code == 404 and current_number(answer) == second
    said(answer, "This service is not offered at this centre.",
         "Bu xidmət bu mərkəzdə göstərilmir.")
    assert staff.post("/counter/transfer", service="certificates").status_code == 303
    assert 'id="current-none"' in staff.page.text
    assert waiting(staff.page, "certificates") == 1 and waiting(staff.page, "passport") == 1

    staff.post("/counter/call-next")  # the transferred ticket kept its place: first
    assert current_number(staff.page) == second
    assert staff.post("/counter/served").status_code == 303
    staff.post("/counter/call-next")
    assert current_number(staff.page) == third
    answer = staff.post("/counter/sign-out")
    assert answer.status_code == 409
    said(answer, "A called ticket is still open: mark it served, no-show or transfer it first.",
         "Çağırılmış bilet hələ bağlanmayıb: xidmət göstərildi, gəlmədi və ya yönləndir seçin.")
    assert staff.post("/counter/served").status_code == 303
    assert 'id="current-none"' in staff.page.text
    assert staff.post("/counter/sign-out").status_code == 303
    assert 'name="services"' in staff.page.text
    view = open_centre.view(token)
    assert not view["signed_in"] and view["current"] is None
    assert view["waiting"]["passport"] == view["waiting"]["certificates"] == 0


def test_signing_in_without_a_service_is_refused_with_the_reason(open_centre):
    staff = Staff(open_centre.pages.url)
    staff.post("/counter/token", token=open_centre.counter("Masa 3"))
    answer = staff.post("/counter/sign-in")
    assert answer.status_code == 400
    said(answer, "The data contains errors.", "Məlumatlarda səhvlər var.")
    assert 'name="services"' in answer.text  # still to choose


def test_every_counter_post_needs_the_csrf_token_and_the_cookie(open_centre):
    token = open_centre.counter("Masa 3")
    signed_in(open_centre, token)
    for path in ("/counter/token", "/counter/call-next", "/counter/served", "/counter/forget"):
        bare = requests.post(open_centre.pages.url + path, data={"token": token}, timeout=10,
                             allow_redirects=False)
        assert bare.status_code == 403, path
    # a session with a valid CSRF token but no counter cookie: back to the token form
    staff = Staff(open_centre.pages.url)
    answer = staff.post("/counter/call-next")
    assert answer.status_code == 303 and 'name="token"' in staff.page.text
    assert staff.post("/counter/unknown-action").status_code == 404
    assert open_centre.view(token)["current"] is None  # nothing was called


def test_forgetting_the_counter_deletes_the_cookie(open_centre):
    token = open_centre.counter("Masa 3")
    staff = signed_in(open_centre, token)
    staff.post("/counter/forget")
    assert "asan_counter" not in staff.session.cookies
    assert 'name="token"' in staff.page.text
    assert open_centre.view(token)["signed_in"]  # the counter itself stays signed in


def test_the_board_without_javascript_refreshes_itself_and_shows_numbers_only(open_centre):
    token = open_centre.counter("Masa 3")
    open_centre.api(token, "sign-in", {"services": ["passport"]})
    number = open_centre.issue()
    called = open_centre.api(token, "call-next")["current"]
    board = requests.get(f"{open_centre.pages.url}/board/{CENTRE}", timeout=10)
    assert board.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in board.text
    assert '<script src="/static/board.js" defer></script>' in board.text
    assert number in board.text and "Masa 3" in board.text
    assert "Quba ASAN xidmət mərkəzi" in board.text and "Guba ASAN service centre" in board.text
    assert "Set-Cookie" not in board.headers  # the same for every screen
    data = requests.get(f"{open_centre.pages.url}/board/{CENTRE}.json", timeout=10)
    assert data.status_code == 200 and data.headers["Cache-Control"] == "no-store"
    assert data.json()["called"] == [{"number": number, "counter": "Masa 3",
                                      "time": baku_clock(called["called_at"]),
                                      "recalls": 0, "done": False,
                                      "service": {"code": "passport",
                                                  "az": "Ümumvətəndaş pasportunun verilməsi",
                                                  "en": "Passport"}}]
    assert data.json()["waiting"] == 0
    script = requests.get(f"{open_centre.pages.url}/static/board.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]


@pytest.mark.parametrize("centre", ["nowhere", "QUBA", "a" * 300, "%C9%99", "quba.json.json"])
def test_an_unknown_centre_is_a_404_board_in_both_languages(open_centre, centre):
    board = requests.get(f"{open_centre.pages.url}/board/{centre}", timeout=10)
    assert board.status_code == 404, centre
    assert "Belə mərkəz yoxdur" in board.text and "There is no such centre" in board.text
    data = requests.get(f"{open_centre.pages.url}/board/{centre}.json", timeout=10)
    assert data.status_code == 404 and data.json()["error"] == "unknown_centre", centre


@pytest.mark.parametrize("centre, status", [
    ("%2e%2e%2fmetrics", 404), ("quba%00", 400), ("quba%0d%0a", 404), ("%ff", 400),
    ("quba%3Fx%3D1", 404), ("quba%23", 404)])
def test_whatever_is_typed_for_a_centre_is_never_a_500(open_centre, centre, status):
    for suffix in ("", ".json"):
        answer = requests.get(f"{open_centre.pages.url}/board/{centre}{suffix}", timeout=10)
        assert answer.status_code == status, (centre, suffix)


def test_a_board_whose_gateway_does_not_answer_says_so_and_tries_again(start_pages):
    from tests.conftest import unused_port

    nobody = f"http://127.0.0.1:{unused_port()}"
    pages = start_pages(gateway_url=nobody, booking_url=nobody)
    board = requests.get(pages.url + "/board/quba", timeout=10)
    assert board.status_code == 503
    assert '<meta http-equiv="refresh" content="5">' in board.text  # recovers by itself
    assert "Reconnecting" in board.text
    data = requests.get(pages.url + "/board/quba.json", timeout=10)
    assert data.status_code == 503 and data.json()["error"] == "unavailable"
    page = requests.get(pages.url + "/counter", timeout=10,
                        cookies={"asan_counter": "c-1.s3cr3t-Token_value"})
    assert page.status_code == 503  # the counter page: "try again shortly"


def test_a_gateway_without_its_database_is_a_503_board_not_a_500(open_centre):
    """The gateway answers, but 503 ``unavailable``: its database is gone."""
    database = open_centre.stack.gateway_db
    name = database.rsplit("/", 1)[1]
    admin = database.rsplit("/", 1)[0] + "/postgres"
    gateway_board = f"{open_centre.gateway}/centres/{CENTRE}/board"
    assert requests.get(gateway_board, timeout=10).status_code == 200
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = %s", (name,))
        try:
            refused = requests.get(gateway_board, timeout=30)
            assert refused.status_code == 503 and refused.json()["error"] == "unavailable"
            board = requests.get(f"{open_centre.pages.url}/board/{CENTRE}", timeout=30)
            assert board.status_code == 503 and "Reconnecting" in board.text
            data = requests.get(f"{open_centre.pages.url}/board/{CENTRE}.json", timeout=30)
            assert data.status_code == 503 and data.json()["error"] == "unavailable"
        finally:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
