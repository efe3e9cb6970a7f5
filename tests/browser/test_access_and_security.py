"""What every page owes its visitor: labels tied to inputs, keyboard-only use, focus
moved to the reasons of a refusal (Q-5), CSRF protection, no personal data in URLs,
and headers that keep pages out of caches and other sites' frames."""
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .conftest import WEB

pytestmark = pytest.mark.e2e
FORM_PAGES = ["/booking", "/cancel", "/reschedule", "/order-code", "/fin", "/complaint"]


@pytest.mark.parametrize("path", FORM_PAGES + ["/", "/counter"])
def test_every_input_has_a_label_tied_to_it_and_every_form_posts(desktop, path):
    desktop.open(path)
    controls = desktop.all("input:not([type=hidden]), select, textarea")
    for control in controls:
        control_id = control.get_attribute("id")
        assert control_id, control.get_attribute("outerHTML")
        labels = desktop.all(f"label[for='{control_id}']")
        assert len(labels) == 1 and labels[0].text.strip(), control_id
    for form in desktop.all("form"):
        assert form.get_attribute("method") == "post"  # nothing typed ends up in a URL
        assert form.find_elements(By.CSS_SELECTOR, "input[name=csrf_token]")
    assert desktop.find("meta[name=viewport]")
    desktop.shot(path.strip("/") or "home")


def test_keyboard_only_a_refused_booking_moves_focus_to_the_reasons(browser):
    """Q-5 with the keyboard alone: Tab to the fields, type, Tab to the button, Enter;
    the panel of reasons gets the focus and its first link leads to the field."""
    browser.open("/booking")
    actions = browser.driver.switch_to

    def tab_to(element_id, limit=40):
        for _ in range(limit):
            if actions.active_element.get_attribute("id") == element_id:
                return actions.active_element
            actions.active_element.send_keys(Keys.TAB) if actions.active_element.tag_name \
                != "body" else browser.find("body").send_keys(Keys.TAB)
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("booking-name").send_keys("Leyla")
    focused = tab_to("booking-surname")
    outline = browser.driver.execute_script(
        "return getComputedStyle(arguments[0]).outlineStyle", focused)
    assert outline != "none"  # the focus is visible
    focused.send_keys("Məmmədova")
    tab_to("booking-email").send_keys("leyla@")
    old = browser.find("html")
    for _ in range(40):  # on to the main button, past the selects and "show free times"
        element = actions.active_element
        if element.get_attribute("value") == "send_code":
            break
        element.send_keys(Keys.TAB)
    else:
        raise AssertionError("Tab never reached the send button")
    element.send_keys(Keys.ENTER)
    browser.wait_for_next_page(old)

    focused = actions.active_element
    assert "error-summary" in focused.get_attribute("class")
    assert focused.get_attribute("role") == "alert"
    browser.shot("focus-on-reasons")
    focused.send_keys(Keys.TAB)
    link = actions.active_element
    target = link.get_attribute("href").rsplit("#", 1)[1]
    assert target.startswith("booking-")
    assert browser.by_id(target).get_attribute("aria-invalid") == "true"
    assert browser.value("booking-name") == "Leyla"


def test_enter_in_a_text_field_sends_the_form_not_show_free_times(browser):
    browser.open("/booking")
    old = browser.find("html")
    browser.fill("booking-name", "Leyla")
    browser.by_id("booking-name").send_keys(Keys.ENTER)
    browser.wait_for_next_page(old)
    assert "booking-surname-error" in browser.driver.page_source  # the booking was tried


@pytest.mark.parametrize("path", FORM_PAGES + ["/booking/confirm"])
def test_a_post_without_the_csrf_token_is_refused_with_403(path):
    bare = requests.post(WEB + path, data={"order_code": "K7M2-QX4P", "id_card": "AZE1"},
                         timeout=10)
    assert bare.status_code == 403
    assert "text/html" in bare.headers["Content-Type"]
    assert "başqa saytdan" in bare.text and "another site" in bare.text  # both languages
    session = requests.Session()
    session.get(WEB + path.replace("/confirm", ""), timeout=10)  # a session cookie, no token
    forged = session.post(WEB + path, data={"csrf_token": "0" * 64}, timeout=10)
    assert forged.status_code == 403


def test_cookies_and_headers():
    response = requests.get(WEB + "/booking", timeout=10)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text  # the essential path needs no JavaScript


def test_the_language_switch_remembers_english():
    session = requests.Session()
    english = session.get(WEB + "/fin?lang=en", timeout=10)
    assert '<html lang="en">' in english.text
    assert '<html lang="en">' in session.get(WEB + "/complaint", timeout=10).text
    assert '<html lang="az">' in requests.get(WEB + "/complaint", timeout=10).text


def test_unknown_pages_are_html_404():
    response = requests.get(WEB + "/no/such/page", timeout=10)
    assert response.status_code == 404 and "Belə səhifə yoxdur" in response.text


CONTRAST = """
function rgb(text) { return (text.match(/[\\d.]+/g) || []).map(Number); }
function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
  }
  return [255, 255, 255];
}
const found = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length) continue;
  const fg = luminance(rgb(getComputedStyle(el).color)), bg = luminance(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  found.push([el.tagName + ': ' + el.textContent.trim().slice(0, 40), ratio]);
}
return found;
"""


@pytest.mark.parametrize("path", ["/", "/booking", "/reschedule", "/order-code", "/fin",
                                  "/complaint"])
def test_text_has_sufficient_contrast_even_in_a_refusal(desktop, path):
    """WCAG 2.1 AA: at least 4.5:1 for every piece of visible text, the reasons of a
    refusal included (computed from the colours the browser actually uses)."""
    desktop.open(path)
    if path != "/":
        desktop.press("button.primary")  # an empty form: every reason is shown
        assert desktop.all("[aria-invalid=true]")
    measured = desktop.driver.execute_script(CONTRAST)
    assert len(measured) > 5
    poor = [(text, round(ratio, 2)) for text, ratio in measured if ratio < 4.5]
    assert poor == []
