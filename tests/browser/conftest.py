"""Browser tests: Debian's headless chromium, driven by Selenium through Debian's
chromium-driver, against the pages of the running platform (make test started it).

Selenium Manager never runs (it would download a driver): both paths are given.
Every test saves a screenshot of each page it sees under
``$ASAN_TEST_OUTPUT/screenshots`` (default ``$ASAN_STATE_DIR/test-output/screenshots``,
i.e. ``.state/test-output/screenshots``), named ``<test>-<page>.png``.
"""
import base64
import os
from importlib import resources
import re
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

from shared.runtime.config import REPO_ROOT, service_config

AXE_SOURCE = (resources.files("selenium_axe_python") / "axe-core" / "axe.min.js").read_text(
    "utf-8")

WEB = "http://" + service_config("web")["WEB_SERVER_ADDRESS"]
CHROMIUM = os.environ.get("ASAN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ASAN_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)
DESKTOP = (1280, 900)
SCREEN = (1920, 1080)  # a centre's display board (full HD)


def output_dir():
    base = os.environ.get("ASAN_TEST_OUTPUT") or Path(
        os.environ.get("ASAN_STATE_DIR") or REPO_ROOT / ".state") / "test-output"
    folder = Path(base) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Browser:
    """A thin layer over the driver, in the words of the tests."""

    def __init__(self, driver, test_name, base=WEB):
        self.driver, self.test_name, self.base = driver, test_name, base
        self.shots = []

    def open(self, path):
        self.driver.get(self.base + path)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def by_id(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def fill(self, element_id, value):
        element = self.by_id(element_id)
        element.clear()
        element.send_keys(value)

    def choose(self, element_id, value):
        Select(self.by_id(element_id)).select_by_value(value)

    def set_date(self, element_id, day):
        """Types the day as written here, ``DD.MM.YYYY`` (issue 23 §5: the field reads
        the same whatever the browser's language)."""
        element = self.by_id(element_id)
        element.clear()
        element.send_keys(f"{day:%d.%m.%Y}")
        assert element.get_attribute("value") == f"{day:%d.%m.%Y}"

    def axe_violations(self):
        """axe-core's WCAG 2.x A/AA violations on the page as shown now (Deque's engine,
        bundled by selenium-axe-python): ``[(rule id, [css target, …]), …]``."""
        self.driver.execute_script(AXE_SOURCE)
        result = self.driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa',"
            " 'wcag21a', 'wcag21aa']}}).then(function (r) { done(r.violations); },"
            " function (e) { done([{id: 'axe-failed: ' + e, nodes: []}]); });")
        return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result]

    def press(self, css):
        """Clicks a button and waits for the next page."""
        old = self.find("html")
        self.find(css).click()
        self.wait_for_next_page(old)

    def wait_for_next_page(self, old):
        """Until ``old`` (the previous page's <html>) is gone and the new one is loaded.
        Chromium reports a node of a replaced document as stale, or sometimes as
        "does not belong to the document": both mean the page changed."""
        def replaced(driver):
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return driver.execute_script("return document.readyState") == "complete"
        WebDriverWait(self.driver, 30, ignored_exceptions=(WebDriverException,)).until(replaced)

    def value(self, element_id):
        return self.by_id(element_id).get_attribute("value")

    @property
    def text(self):
        return self.find("main").text

    @property
    def url(self):
        return self.driver.current_url

    def resize(self, size):
        self.driver.set_window_size(*size)

    def shot(self, page):
        """The whole page (not only the window) as a PNG, for a person to look at."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        data = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}})
        path = output_dir() / f"{self.test_name}-{page}.png"
        path.write_bytes(base64.b64decode(data["data"]))
        self.shots.append(path)
        return path


def _driver(size, phone=False, javascript=True, locale="en-US"):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--lang={locale}", "--no-first-run",
                     "--disable-extensions", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(argument)
    prefs = {"intl.accept_languages": locale}
    if not javascript:  # as a browser with scripts turned off: <noscript> is in force
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    if phone:  # a window is at least 500 px wide: emulate the phone's screen instead
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
            "width": size[0], "height": size[1], "pixelRatio": 2, "touch": False}})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


def _test_name(request):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")


@pytest.fixture
def browser(request):
    """A fresh phone-sized browser (no cookies) for each test."""
    driver = _driver(PHONE, phone=True)
    try:
        yield Browser(driver, _test_name(request))
    finally:
        driver.quit()


@pytest.fixture
def desktop(request):
    driver = _driver(DESKTOP)
    try:
        yield Browser(driver, _test_name(request))
    finally:
        driver.quit()


@pytest.fixture
def make_browser(request):
    """Browsers of any size, with or without JavaScript, in any ``locale`` (the
    browser's language, ``--lang``), on the pages at ``base`` (default: the running
    platform's); all closed after the test."""
    drivers = []

    def make(size=DESKTOP, javascript=True, base=WEB, suffix="", locale="en-US", phone=False):
        driver = _driver(size, phone=phone, javascript=javascript, locale=locale)
        drivers.append(driver)
        return Browser(driver, _test_name(request) + suffix, base)
    try:
        yield make
    finally:
        for driver in drivers:
            driver.quit()
