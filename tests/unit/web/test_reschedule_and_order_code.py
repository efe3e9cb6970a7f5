"""Issue 17 §5 on the pages, without servers: the order code hidden between the two
steps of a move (encrypted, bound to the session, for a while), every refusal of a move
at the input that fixes it, the lost-code form's payload, and the pages as rendered —
the order code never written into them, every input labelled, the links to them."""
import re

import pytest

from services.web import forms, i18n, security
from services.web.service import TEMPLATES, page_words

SECRET = "test-secret"
CODE = "B3NQ-7RTW"


def render(template, lang="en", **context):
    return TEMPLATES.get_template(template).render(
        **page_words(lang), path="/reschedule",
        csrf_field=security.CSRF_FIELD, csrf_token="c" * 64,
        problems=context.pop("problems", None) or forms.Problems(), **context)


def test_the_hidden_order_code_comes_back_only_to_its_session_and_in_time():
    move = {"code": CODE, "centre": "baku-1", "service": "passport", "date": "2026-11-24",
            "time": "10:15"}
    hidden = security.hide(SECRET, "session-a", move, 60, now=1000)
    assert CODE not in hidden and "baku-1" not in hidden
    assert security.unhide(SECRET, "session-a", hidden, now=1060) == move
    assert security.unhide(SECRET, "session-a", hidden, now=1061) is None  # expired
    assert security.unhide(SECRET, "session-b", hidden, now=1000) is None
    assert security.unhide("other-secret", "session-a", hidden, now=1000) is None
    assert security.unhide(SECRET, "", hidden, now=1000) is None
    altered = hidden[:20] + ("A" if hidden[20] != "A" else "B") + hidden[21:]
    for forged in (altered, "", None, "ü", "x" * 5000, "AAAA" * 10, "%%%"):
        assert security.unhide(SECRET, "session-a", forged, now=1000) is None
    assert security.hide(SECRET, "s", move, 60) != security.hide(SECRET, "s", move, 60)


@pytest.mark.parametrize("code, field", [
    ("no_active_booking", "order_code"), ("visit_started", "order_code"),
    ("same_time", "time"), ("slot_full", "time"), ("already_booked", "date"),
    ("centre_closed", "date")])
def test_every_refusal_of_a_move_is_linked_to_the_input_that_fixes_it(code, field):
    answer = {"error": code, "message": {"az": "Az", "en": "En"},
              "reasons": [{"field": None, "code": code, "az": "Səbəb", "en": "Reason"}]}
    problems = forms.problems_from(answer, "az", forms.RESCHEDULE_FIELDS, "reschedule-",
                                   forms.RESCHEDULE_REFUSALS, forms.RESCHEDULE_LABELS)
    label = i18n.text(forms.RESCHEDULE_LABELS.get(field, field), "az")
    assert problems.panel == [(f"reschedule-{field}", label, "Səbəb")]
    assert problems.of(field) == ["Səbəb"]


def test_a_refusal_of_another_shape_is_shown_without_a_link_and_never_breaks():
    for answer in (None, [], "text", {"reasons": ["x", None]},
                   {"reasons": [{"field": None, "code": "too_many_requests", "az": "Çox",
                                 "en": "Too many"}]}):
        problems = forms.problems_from(answer, "en", forms.RESCHEDULE_FIELDS, "reschedule-",
                                       forms.RESCHEDULE_REFUSALS)
        assert all(target is None for target, _, _ in problems.panel)


def test_a_lost_code_form_leaves_empty_fields_out_so_booking_names_them():
    assert forms.order_code_payload({"id_card": " aze12345678 ", "email": "",
                                     "date": "2026-11-24", "csrf_token": "x"}) == {
        "id_card": "aze12345678", "date": "2026-11-24"}


@pytest.mark.parametrize("lang", ["az", "en"])
def test_the_first_step_of_a_move_never_writes_the_order_code_back(lang):
    problems = forms.problems_from(
        {"message": {"az": "Yox", "en": "No"}, "reasons": [
            {"field": None, "code": "no_active_booking", "az": "Aktiv növbə yoxdur",
             "en": "No active booking"}]}, lang, forms.RESCHEDULE_FIELDS, "reschedule-",
        forms.RESCHEDULE_REFUSALS, forms.RESCHEDULE_LABELS)
    html = render("reschedule.html", lang, step="find", values={"date": "2026-11-25"},
                  problems=problems, tomorrow="2026-11-24")
    assert re.search(r'<input id="reschedule-order_code" name="order_code" type="text" '
                     r'value=""', html)
    assert 'href="#reschedule-order_code"' in html and 'aria-invalid="true"' in html
    # issue 23 §5: a text field read day first whatever the browser's language, its hint
    # the form, an example (tomorrow) and the weekday of the day typed
    assert '<label for="reschedule-date">' in html and 'type="date"' not in html
    assert re.search(r'<input id="reschedule-date" name="date" type="text" value="2026-11-25"'
                     r'[^>]*inputmode="numeric"', html)
    assert i18n.text("date_hint", lang) in html and "24.11.2026" in html
    assert {"az": "çərşənbə, 25.11.2026", "en": "Wednesday, 25.11.2026"}[lang] in html
    assert 'action="/reschedule"' in html and 'method="post"' in html
    assert 'href="/order-code"' in html and "<script" not in html


def test_the_second_step_shows_the_booking_now_and_the_free_times_with_the_code_hidden():
    hidden = security.hide(SECRET, "s", {"code": CODE}, 60)
    html = render("reschedule.html", "az", step="choose", move=hidden,
                  current={"centre": "baku-1", "service": "passport", "date": "2026-11-24",
                           "time": "10:15"},
                  values={"date": "2026-11-25", "time": ""},
                  times=[{"time": "11:00", "free": 2}, {"time": "11:15", "free": 1}],
                  tomorrow="2026-11-24", service_info={"name": {"az": "Pasport"}},
                  centre_info={"name": {"az": "Bakı 1"}, "address": "Ünvan"})
    assert CODE not in html and f'name="move" value="{hidden}"' in html
    assert "Pasport" in html and "Bakı 1" in html and "10:15" in html
    assert "çərşənbə axşamı, 24.11.2026" in html and "2026-11-24" not in html
    assert '<option value="11:00">' in html and '<option value="11:15">' in html
    assert '<label for="reschedule-time">' in html
    # Enter sends the move, not "show free times": the first submit button is the move.
    buttons = re.findall(r'<button type="submit" name="action" value="(\w+)"', html)
    assert buttons[0] == "move" and "slots" in buttons


def test_the_lost_code_pages_and_the_links_to_both():
    html = render("order_code.html", "en", values={})
    for field in ("id_card", "email", "date"):
        assert f'<label for="order-code-{field}">' in html
    done = render("order_code_done.html", "en", title="T", text="X",
                  others=[("az", "TA", "XA")])
    assert 'lang="az"' in done and 'href="/reschedule"' in done
    for template, context in (("home.html", {}), ("cancel.html", {"values": {}}),
                              ("booking_done.html", {
                                  "booking": {"status": "confirmed", "booking_id": "b"},
                                  "summary": {"date": "2026-11-24", "time": "10:15"}})):
        page = render(template, "az", **context)
        assert 'href="/reschedule"' in page and 'href="/order-code"' in page, template
