"""Issue 17 §5 through the citizen pages, without a browser, against the real booking
service (in-process, its clock on Monday 23 November 2026, Baku): a booking moved in
two steps — the order code and a new date, then a free time of that day at its centre —
with the order code never in a URL nor written back into any page; every refusal at
the input that fixes it, in Azerbaijani and English; a lost order code answered by the
same page whether a booking matched or not; never a 500 for what a visitor sends."""
import re

import psycopg
import pytest
import requests

from shared.vocabulary.dates import day_text
from tests.integration.kiosk.conftest import start_stack  # noqa: F401 (a fixture)

from .test_counter_and_board_pages import csrf_of

pytestmark = pytest.mark.integration


class Citizen:
    """A browser without JavaScript: a requests session that posts each page's forms
    with its CSRF token (and its hidden move, when the page has one)."""

    def __init__(self, url, lang="az"):
        self.url, self.session = url, requests.Session()
        self.page = self.session.get(f"{url}/reschedule?lang={lang}", timeout=10)

    def get(self, path):
        self.page = self.session.get(self.url + path, timeout=10)
        return self.page

    def post(self, path, keep_move=True, **form):
        form = dict(form, csrf_token=csrf_of(self.page.text))
        hidden = re.search(r'name="move" value="([^"]+)"', self.page.text)
        if keep_move and hidden and "move" not in form:
            form["move"] = hidden.group(1)
        self.page = self.session.post(self.url + path, data=form, timeout=10,
                                      allow_redirects=False)
        return self.page


def times_offered(html):
    select = re.search(r'<select id="reschedule-time".*?</select>', html, re.S).group(0)
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


def order_codes_sent(database, booking_id):
    with psycopg.connect(database) as conn:
        return [row[0] for row in conn.execute(
            "SELECT convert_from(body, 'UTF8')::json -> 'data' -> 'variables' ->> 'order_code'"
            " FROM outbox WHERE routing_key = 'EmailRequested'"
            " AND convert_from(body, 'UTF8')::json -> 'data' ->> 'reference' = %s"
            " AND convert_from(body, 'UTF8')::json -> 'data' ->> 'template'"
            " LIKE 'booking_order_code%%' ORDER BY id", (f"booking-{booking_id}",))]


@pytest.fixture
def site(start_stack, start_pages):
    # Every visitor here is one address (127.0.0.1, forwarded by the pages): the
    # limit of moves per client is not what these tests are about.
    stack = start_stack(booking_config={"RATE_LIMITS": {
        "booking_reschedule": "600 per hour, burst 100"}})
    pages = start_pages(gateway_url=stack.gateway_url, booking_url=stack.booking_url)
    return stack, pages


def test_a_booking_is_moved_in_two_steps_and_its_order_code_is_never_shown(site):
    stack, pages = site
    booking_id, order_code = stack.confirmed_booking(day="2026-11-24", at="10:15")
    citizen = Citizen(pages.url)
    assert citizen.page.status_code == 200 and 'id="reschedule-order_code"' in citizen.page.text

    # typed as written here (issue 23 §5): the same day as booking's 2026-11-24
    chosen = citizen.post("/reschedule", order_code=order_code.lower(), date="24.11.2026")
    assert chosen.status_code == 200, chosen.text
    assert order_code not in chosen.text and order_code.lower() not in chosen.text
    assert "10:15" in chosen.text  # the booking now, in its summary
    offered = times_offered(chosen.text)
    assert offered and "10:15" not in offered  # its own time is no move

    other_day = citizen.post("/reschedule", action="slots", date="2026-11-25")
    assert other_day.status_code == 200 and "10:15" in times_offered(other_day.text)
    done = citizen.post("/reschedule", action="move", date="2026-11-25", time="11:00")
    assert done.status_code == 200, done.text
    assert "çərşənbə, 25.11.2026" in done.text and "11:00" in done.text
    assert "2026-11-25" not in done.text
    assert order_code not in done.text
    assert stack.booking_events(booking_id)[-1] == "BookingRescheduled"
    for page in (citizen.page,):
        assert 'href="/cancel"' in page.text and 'href="/reschedule"' in page.text

    # The same form sent again (a reload): refused at the time, nothing moved twice.
    again = citizen.session.post(pages.url + "/reschedule", data=dict(
        csrf_token=csrf_of(other_day.text), move=re.search(
            r'name="move" value="([^"]+)"', other_day.text).group(1),
        action="move", date="2026-11-25", time="11:00"), timeout=10)
    assert again.status_code == 409
    assert 'href="#reschedule-time"' in again.text
    assert stack.booking_events(booking_id).count("BookingRescheduled") == 1


@pytest.mark.parametrize("lang, words", [("az", "aktiv növbə yoxdur"),
                                         ("en", "no active booking")])
def test_an_unknown_order_code_is_refused_at_its_field_and_not_written_back(
        site, lang, words):
    stack, pages = site
    citizen = Citizen(pages.url, lang)
    refused = citizen.post("/reschedule", order_code="B3NQ-7RTW", date="2026-11-25")
    assert refused.status_code == 404
    assert f'<html lang="{lang}">' in refused.text and words in refused.text.lower()
    assert 'href="#reschedule-order_code"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "B3NQ-7RTW" not in refused.text
    assert 'value="2026-11-25"' in refused.text  # the date is kept

    missing = citizen.post("/reschedule", order_code="", date="")
    assert missing.status_code == 400
    for field in ("order_code", "date"):
        assert f'href="#reschedule-{field}"' in missing.text


def test_refusals_of_the_second_step_are_at_the_date_and_time(site):
    stack, pages = site
    _, order_code = stack.confirmed_booking(day="2026-11-24", at="10:15")
    citizen = Citizen(pages.url, "en")
    citizen.post("/reschedule", order_code=order_code, date="2026-11-29")  # a Sunday
    assert citizen.page.status_code == 400 and 'href="#reschedule-date"' in citizen.page.text
    assert "move" in citizen.page.text  # still the second step: another date can be asked
    no_time = citizen.post("/reschedule", action="move", date="2026-11-25", time="")
    assert no_time.status_code == 400 and 'href="#reschedule-time"' in no_time.text
    same = citizen.post("/reschedule", action="move", date="2026-11-24", time="10:15")
    assert same.status_code == 409 and 'href="#reschedule-time"' in same.text
    past = citizen.post("/reschedule", action="move", date="2026-11-23", time="15:00")
    assert past.status_code == 400 and 'href="#reschedule-date"' in past.text
    assert order_code not in past.text


def test_a_move_token_of_another_browser_or_altered_is_refused_without_a_move(site):
    stack, pages = site
    booking_id, order_code = stack.confirmed_booking()
    mine = Citizen(pages.url)
    mine.post("/reschedule", order_code=order_code, date="2026-11-25")
    hidden = re.search(r'name="move" value="([^"]+)"', mine.page.text).group(1)
    other = Citizen(pages.url)
    stolen = other.post("/reschedule", move=hidden, action="move", date="2026-11-25",
                        time="11:00")
    assert stolen.status_code == 400 and 'href="/reschedule"' in stolen.text
    for forged in (hidden[:-4] + "AAAA", "", "x" * 5000, "ü", "../../metrics"):
        answer = mine.post("/reschedule", move=forged, action="move", date="2026-11-25",
                           time="11:00")
        assert answer.status_code == 400
        mine.get("/reschedule")
    assert "BookingRescheduled" not in stack.booking_events(booking_id)


def refusals_shown(html):
    """The refusal panel of a page: ``[(field, its reason as shown)]``, in order."""
    return re.findall(r'<li><a href="#reschedule-([a-z_]+)">([^<]*)</a></li>', html)


NOT_A_CODE = ("order_code", "Order code: An order code is 8 characters (e.g. K7M2-QX4P).")
HOSTILE_FIRST_STEP = [  # (order code, date) → the panel of the 400 page
    ("' OR 1=1 --", "2026-11-25", [NOT_A_CODE]),
    ("K7M2-QX4P" * 1000, "x" * 10000, [NOT_A_CODE]),
    ("{code}", "2026-02-30", [("date", "New date: Not a valid date (YYYY-MM-DD or DD.MM.YYYY).")]),
    ("{code}", "9999-12-31", [("date", "New date: The date must be from 01.01.1900 to"
                                       " 31.12.2100.")]),
]
HOSTILE_SECOND_STEP = ["25:99", "١١:٠٠", "<script>"]  # times no select offers


def test_hostile_input_is_refused_at_its_field_and_moves_nothing(site):
    stack, pages = site
    booking_id, order_code = stack.confirmed_booking()
    citizen = Citizen(pages.url, "en")
    for code, day, panel in HOSTILE_FIRST_STEP:
        answer = citizen.post("/reschedule", order_code=code.format(code=order_code), date=day)
        assert answer.status_code == 400, (code[:20], day[:20], answer.text)
        assert refusals_shown(answer.text) == panel
        assert order_code not in answer.text and "OR 1=1" not in answer.text
        citizen.get("/reschedule")
    # A control character is refused before any page is made: the boundary's answer.
    answer = citizen.post("/reschedule", order_code="\x00\u202e", date="٢٠٢٦-١١-٢٥")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_characters"
    assert [r["field"] for r in answer.json()["reasons"]] == ["order_code"]
    citizen.get("/reschedule")

    citizen.post("/reschedule", order_code=order_code, date="2026-11-25")
    for at in HOSTILE_SECOND_STEP:
        answer = citizen.post("/reschedule", action="move", date="2026-11-25", time=at)
        assert answer.status_code == 400, (at, answer.text)
        assert refusals_shown(answer.text) == [("time", "New time: Not a valid time.")]
        assert "<script>" not in answer.text
    assert "BookingRescheduled" not in stack.booking_events(booking_id)
    # Digits of another script are the date they spell (issue 12): the move is made.
    moved = citizen.post("/reschedule", action="move", date="٢٠٢٦-١١-٢٥", time="11:00")
    assert moved.status_code == 200, moved.text
    assert day_text("2026-11-25", "en") in moved.text and "11:00" in moved.text
    assert stack.booking_events(booking_id)[-1] == "BookingRescheduled"
    for path in ("/order-code", "/reschedule"):
        answer = requests.post(pages.url + path, data={"order_code": order_code}, timeout=10)
        assert answer.status_code == 403  # no CSRF token, no session: nothing sent on


def test_a_lost_order_code_is_replaced_by_the_same_page_whether_a_booking_matched(site):
    stack, pages = site
    booking_id, old_code = stack.confirmed_booking(day="2026-11-24")
    with psycopg.connect(stack.booking_db) as conn:
        id_card, email = conn.execute("SELECT id_card, email FROM bookings WHERE booking_id"
                                      " = %s", (booking_id,)).fetchone()
    citizen = Citizen(pages.url, "en")
    citizen.get("/order-code")
    assert 'id="order-code-id_card"' in citizen.page.text
    matched = citizen.post("/order-code", id_card=id_card, email=email, date="2026-11-24")
    assert matched.status_code == 200, matched.text
    citizen.get("/order-code")
    unmatched = citizen.post("/order-code", id_card="AZE00000001", email="no@example.az",
                             date="2026-11-24")
    assert unmatched.status_code == 200
    assert matched.text == unmatched.text  # no oracle
    assert email not in matched.text and id_card not in matched.text

    codes = order_codes_sent(stack.booking_db, booking_id)
    assert len(codes) == 2 and codes[0] == old_code
    citizen.get("/reschedule")
    assert citizen.post("/reschedule", order_code=old_code, date="2026-11-25").status_code == 404
    citizen.get("/reschedule")
    assert citizen.post("/reschedule", order_code=codes[1], date="2026-11-25"
                        ).status_code == 200


def test_a_lost_order_code_form_names_every_reason_at_its_field(site):
    stack, pages = site
    citizen = Citizen(pages.url, "az")
    citizen.get("/order-code")
    refused = citizen.post("/order-code", id_card="", email="not-an-email", date="")
    assert refused.status_code == 400
    for field in ("id_card", "email", "date"):
        assert f'href="#order-code-{field}"' in refused.text
    assert 'value="not-an-email"' in refused.text
    hostile = citizen.post("/order-code", id_card="\x00" * 3000, email="a@" + "b" * 5000,
                           date="٢٠٢٦-١١-٢٤")
    assert hostile.status_code == 400


def test_too_many_tries_are_a_429_page_with_retry_after_never_a_500(start_stack, start_pages):
    stack = start_stack(booking_config={"RATE_LIMITS": {
        "booking_reschedule": "1 per hour, burst 2", "booking_resend": "1 per hour, burst 1"}})
    pages = start_pages(gateway_url=stack.gateway_url, booking_url=stack.booking_url)
    citizen = Citizen(pages.url, "en")
    statuses = []
    for _ in range(3):
        statuses.append(citizen.post("/reschedule", order_code="B3NQ-7RTW",
                                     date="2026-11-25").status_code)
    assert statuses == [404, 404, 429]
    assert re.fullmatch("[0-9]+", citizen.page.headers["Retry-After"])
    assert 'class="error-summary"' in citizen.page.text
    citizen.get("/order-code")
    # two different asks: the same one again within a minute is a double submit,
    # answered once by booking (@once), not counted again
    for expected, email in ((200, "a@example.az"), (429, "b@example.az")):
        answer = citizen.post("/order-code", id_card="AZE00000001", email=email,
                              date="2026-11-24")
        assert answer.status_code == expected
        citizen.get("/order-code")


def test_a_booking_service_that_does_not_answer_is_a_503_page_in_both_languages(start_pages):
    from tests.conftest import unused_port

    closed = f"http://127.0.0.1:{unused_port()}"
    pages = start_pages(gateway_url=closed, booking_url=closed)
    citizen = Citizen(pages.url)
    assert citizen.page.status_code == 200  # the first step needs no service
    answer = citizen.post("/reschedule", order_code="B3NQ-7RTW", date="2026-11-25")
    assert answer.status_code == 503 and 'lang="en"' in answer.text
    assert "B3NQ-7RTW" not in answer.text
    citizen.get("/order-code")
    assert citizen.post("/order-code", id_card="AZE00000001", email="a@example.az",
                        date="2026-11-24").status_code == 503
