"""The citizen's web pages (seed 000 §2.4 and its annex form, seed 001 §3.2, the
complaints of 000 §3.5): server-rendered, Azerbaijani by default, working without
JavaScript. The pages hold no data of their own: every answer comes from the booking,
registry and complaints services' HTTP APIs.

Also the counter page of the centres' staff and each centre's display board (issue 17
§2), over the kiosk gateway's counter and board API (see :mod:`services.web.counter`).
Both work without JavaScript too; a small script adds the counter's keyboard shortcuts
and updates the board every second without a reload."""
import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from shared.vocabulary import dates
from shared.vocabulary.clock import BAKU, baku_today
from shared.runtime.worker_clock import Clock
from shared.edge.http import http
from shared.edge.platform import PlatformService
from shared.runtime.settings import SettingsProvider

from shared.edge.http import json_response

from . import counter, forms, i18n, security
from .backends import Backends, Unavailable
from .settings import WebSettings

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
HTML = "text/html; charset=utf-8"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), trim_blocks=True,
                        lstrip_blocks=True)
# The static files, read once: (content type, bytes). Nothing else is served from disk.
STATIC = {name: (kind, (HERE / "static" / name).read_bytes()) for name, kind in (
    ("site.css", "text/css; charset=utf-8"),
    ("counter.js", "text/javascript; charset=utf-8"),
    ("board.js", "text/javascript; charset=utf-8"))}
NEED_A_DAY = {"az": "Boş vaxtları görmək üçün xidməti, mərkəzi və tarixi seçin.",
              "en": "Choose the service, the centre and the date to see the free times."}
# What the result page shows; the ID card and phone are not carried to it.
SUMMARY_FIELDS = ("name", "surname", "patronymic", "email", "service", "centre", "date", "time")
# The counter page's own refusal of something that cannot be a token.
BAD_TOKEN = {"az": "Bu, masa açarı deyil: administratorun verdiyi açarı olduğu kimi daxil edin.",
             "en": "This is not a counter token: enter the token the administrators gave, "
                   "as it is."}
# A board whose gateway does not answer tries again after this many seconds.
BOARD_RETRY_SECONDS = 5
# The board is public and the same for everyone, but always of this very second.
BOARD_HEADERS = dict(security.PAGE_HEADERS)
UNKNOWN_CENTRE = {"error": "unknown_centre",
                  "message": {"az": "Belə mərkəz yoxdur.", "en": "There is no such centre."},
                  "reasons": [{"field": "centre", "code": "unknown_centre",
                               "az": "Belə mərkəz yoxdur.", "en": "There is no such centre."}]}
BOARD_UNAVAILABLE = {"error": "unavailable",
                     "message": {"az": "Tablo müvəqqəti yenilənmir.",
                                 "en": "The board is temporarily not updated."},
                     "reasons": [{"field": None, "code": "unavailable",
                                  "az": "Tablo müvəqqəti yenilənmir.",
                                  "en": "The board is temporarily not updated."}]}
NEED_A_NEW_DAY = {"az": "Boş vaxtları görmək üçün yeni tarixi seçin.",
                  "en": "Choose the new date to see the free times."}
NEED_A_TIME = {"az": "Yeni saatı seçin.", "en": "Choose the new time."}
# How long the second step of a move keeps the order code typed in the first (the
# code itself is never put in a page: security.hide).
MOVE_TTL_SECONDS = 30 * 60
START_AGAIN = {"az": "Bu sorğu artıq etibarsızdır; zəhmət olmasa yenidən başlayın.",
               "en": "This request is no longer valid; please start again."}


class Visit:
    """What one request knows about its visitor: language and session (CSRF)."""

    def __init__(self, request, settings):
        self.request, self.settings = request, settings
        asked = request.args.get("lang")
        self.lang = i18n.choose_language(asked, request.cookies.get(security.LANG_COOKIE))
        self.remember_lang = asked in i18n.LANGUAGES
        self.session_id = request.cookies.get(security.SESSION_COOKIE) or ""
        self.new_session = not self.session_id
        if self.new_session:
            self.session_id = security.new_session_id()

    def csrf_ok(self):
        """True when the form carries the CSRF token of this visitor's session."""
        token = self.request.form.get(security.CSRF_FIELD)
        return not self.new_session and security.csrf_valid(self.settings.WEB_CSRF_SECRET,
                                                            self.session_id, token)

    def render(self, template, status=200, **context):
        """The page ``template`` rendered in the visitor's language, with ``status``; sets
        the session and language cookies."""
        body = TEMPLATES.get_template(template).render(
            **page_words(self.lang), path=self.request.path, csrf_field=security.CSRF_FIELD,
            csrf_token=security.csrf_token(self.settings.WEB_CSRF_SECRET, self.session_id),
            problems=context.pop("problems", None) or forms.Problems(), **context)
        response = Response(body, status=status, content_type=HTML,
                            headers=security.PAGE_HEADERS)
        cookie = {"httponly": True, "samesite": "Lax", "secure": self.settings.WEB_COOKIE_SECURE,
                  "path": "/"}
        if self.new_session:
            response.set_cookie(security.SESSION_COOKIE, self.session_id, **cookie)
        if self.remember_lang:
            response.set_cookie(security.LANG_COOKIE, self.lang, max_age=365 * 86400, **cookie)
        return response


def page_words(lang):
    """What every page's template uses in ``lang``: ``lang``, ``t`` (a text of the pages),
    ``pick`` (a service's ``{az, en}``), ``day`` (a day with its weekday,
    :func:`shared.vocabulary.dates.day_text`) and ``date_hint`` (a date field's hint)."""
    return {"lang": lang, "t": functools.partial(i18n.text, lang=lang),
            "pick": functools.partial(i18n.pick, lang=lang),
            "day": functools.partial(dates.day_text, lang=lang),
            "date_hint": functools.partial(date_hint, lang=lang)}


def date_hint(typed="", example=None, lang="az"):
    """The hint of a date field in ``lang``: the form to type (day first), an example
    (``example``, a day), and the weekday of the day ``typed`` when it is one."""
    words = i18n.text("date_hint", lang)
    if example:
        words += f", {i18n.text('for_example', lang)} {dates.numeric_date(example)}"
    if dates.as_date(typed):
        words += ". " + i18n.text("chosen_day", lang).format(day=dates.day_text(typed, lang))
    return words


def _both(key, lang):
    """A message in the visitor's language first, then in the other one."""
    other = "en" if lang == "az" else "az"
    return {"title": i18n.text(f"{key}_title", lang), "text": i18n.text(f"{key}_text", lang),
            "others": [(other, i18n.text(f"{key}_title", other),
                        i18n.text(f"{key}_text", other))]}


def page(method):
    """An HTML page: a refused CSRF check answers 403, an unreachable service 503,
    each with a page in the visitor's language (never the services' JSON)."""
    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        visit = Visit(request, self.settings)
        self.api.on_behalf_of(request)
        if request.method == "POST" and not visit.csrf_ok():
            return visit.render("message.html", 403, **_both("csrf", visit.lang),
                                again=request.path)
        try:
            response = method(self, visit, *args, **kwargs)
        except Unavailable as error:
            log.warning("a service did not answer: %s", error)
            return visit.render("message.html", 503, **_both("unavailable", visit.lang),
                                again=request.path)
        if response.status_code == 429 and self.api.retry_after:
            response.headers["Retry-After"] = self.api.retry_after
        return response
    return wrapper


def _a_move(move):
    """True for what the first step of a move hid: the order code and the booking's
    centre, service, date and time, all strings."""
    return isinstance(move, dict) and all(isinstance(move.get(key), str) and move[key]
                                          for key in ("code", "centre", "service", "date",
                                                      "time"))


def _a_visit(body):
    """True for booking's answer to ``POST /bookings/visit``."""
    return isinstance(body, dict) and all(body.get(key) for key in ("centre", "service",
                                                                     "date", "time"))


def _iso(typed):
    """A typed day (``DD.MM.YYYY`` or ISO) as ISO, to compare with booking's; else as typed."""
    day = dates.as_date(typed)
    return day.isoformat() if day else typed


def _baku_time(iso):
    try:
        return datetime.fromisoformat(str(iso)).astimezone(BAKU).strftime("%H:%M")
    except ValueError:
        return ""


class WebService(PlatformService):
    """The citizen pages (no database, no relay): booking, moving and cancelling a
    booking, a new order code for a lost one, FIN lookup and complaints in Azerbaijani
    and English, over the backend services' APIs; they work
    without JavaScript."""
    name = "web"
    settings = SettingsProvider(WebSettings)
    api = Backends()
    clock = Clock()

    @http("GET", "/static/<name>")
    def static(self, request, name):
        """The pages' stylesheet and the two small scripts of the counter page and the
        board (cached an hour); any other name is the 404 page."""
        if name not in STATIC:
            return self.not_found(request, f"static/{name}")
        kind, body = STATIC[name]
        return Response(body, content_type=kind,
                        headers={"Cache-Control": "public, max-age=3600",
                                 "X-Content-Type-Options": "nosniff"})

    @http("GET", "/")
    @page
    def home(self, visit):
        """The home page: what can be done here."""
        return visit.render("home.html")

    @http("GET", "/<path:unknown>")
    @page
    def not_found(self, visit, unknown):
        """Any other path: a 404 page in the visitor's language."""
        return visit.render("message.html", 404, title=i18n.text("not_found_title", visit.lang),
                            text="", again="/")

    # --- booking (seed 000, annex form; Q-1 … Q-5) ---------------------------------
    @http("GET", "/booking")
    @page
    def booking_form(self, visit):
        """The booking form (Q-5), empty."""
        return self._booking_page(visit, {})

    @http("POST", "/booking", accepts="form")
    @page
    def booking_submit(self, visit):
        """The booking form sent: show the free slots of the chosen day, or send the booking
        and show the code page, or the form again with every reason."""
        form = visit.request.form
        values = forms.typed(form, forms.BOOKING_FIELDS)
        if form.get("action") == "slots":
            return self._booking_page(visit, values, show_slots=True)
        answer = self.api.call("booking", "POST", "/bookings",
                               json=forms.booking_payload(form, visit.lang))
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, forms.BOOKING_FIELDS,
                                           "booking-")
            return self._booking_page(visit, values, problems=problems, status=answer.status)
        summary = {name: values[name] for name in SUMMARY_FIELDS}
        summary.update(booking_id=answer.body["booking_id"],
                       hold_until=_baku_time(answer.body.get("hold_expires_at")))
        return self._code_page(visit, summary)

    @http("POST", "/booking/confirm", accepts="form")
    @page
    def booking_confirm(self, visit):
        """The code page sent: confirm with the emailed code (Q-3) and show the order code's
        page, or the reasons."""
        summary = security.unseal(self.settings.WEB_CSRF_SECRET, visit.request.form.get("summary"))
        if not summary:
            return visit.render("message.html", 400, title=i18n.pick(START_AGAIN, visit.lang),
                                text="", again="/booking")
        code = visit.request.form.get("code", "").strip()
        answer = self.api.call("booking", "POST", "/bookings/{booking_id}/confirm",
                               path={"booking_id": summary["booking_id"]},
                               json={"code": code})
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, ("code",), "booking-")
            return self._code_page(visit, summary, problems, answer.status,
                                   void=answer.status in (404, 409))
        return visit.render("booking_done.html", booking=answer.body, summary=summary,
                            **self._names(summary))

    def _booking_page(self, visit, values, problems=None, status=200, show_slots=False):
        reference = self.api.reference()
        times, query = None, forms.slot_query(values)
        if query:
            centre, service, day = query
            answer = self.api.call("booking", "GET", "/centres/{centre}/services/{service}/slots",
                                   path={"centre": centre, "service": service},
                                   params={"date": day})
            if answer.ok and isinstance(answer.body, list):
                times = [slot for slot in answer.body
                         if slot["free"] > 0 or slot["time"] == values.get("time")]
            elif show_slots:
                problems = forms.problems_from(answer.body, visit.lang, forms.BOOKING_FIELDS,
                                               "booking-")
                status = answer.status
        elif show_slots:
            problems = forms.local_problem(NEED_A_DAY, visit.lang, "date", "booking-")
            status = 400
        tomorrow = (baku_today(self.clock()) + timedelta(days=1)).isoformat()
        return visit.render("booking.html", status, values=values, problems=problems,
                            times=times, services=reference["services"],
                            centres=reference["centres"], tomorrow=tomorrow)

    def _code_page(self, visit, summary, problems=None, status=200, void=False):
        sealed = security.seal(self.settings.WEB_CSRF_SECRET, summary)
        return visit.render("booking_code.html", status, summary=summary, sealed=sealed,
                            problems=problems, void=void, **self._names(summary))

    def _names(self, visit_fields):
        """The service's and centre's names and the centre's address, for a summary."""
        reference = self.api.reference()
        service = next((s for s in reference["services"]
                        if s["code"] == visit_fields.get("service")), None)
        centre = next((c for c in reference["centres"]
                       if c["code"] == visit_fields.get("centre")), None)
        return {"service_info": service, "centre_info": centre}

    # --- cancelling with the order code ------------------------------------------------
    @http("GET", "/cancel")
    @page
    def cancel_form(self, visit):
        """The cancellation form (Q-8)."""
        return visit.render("cancel.html", values={})

    @http("POST", "/cancel", accepts="form")
    @page
    def cancel_submit(self, visit):
        """The cancellation form sent: cancel with the order code, or show why not."""
        values = forms.typed(visit.request.form, ("order_code",))
        answer = self.api.call("booking", "POST", "/bookings/cancel",
                               json={"order_code": values["order_code"]})
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, ("order_code",), "cancel-")
            return visit.render("cancel.html", answer.status, values=values, problems=problems)
        return visit.render("cancel_done.html", booking=answer.body)

    # --- moving a booking with the order code (issue 17 §5) -------------------------
    @http("GET", "/reschedule")
    @page
    def reschedule_form(self, visit):
        """The first step of a move: the order code and the new date."""
        return self._reschedule_find(visit, {})

    @http("POST", "/reschedule", accepts="form")
    @page
    def reschedule_submit(self, visit):
        """A move's steps. Without ``move`` (the hidden order code of the first step):
        the booking's visit is asked for with the typed order code and the free times
        of the new date shown. With it: the free times of another date (``action=slots``),
        or the move itself; then the page of the new time, or the reasons, each at the
        input that fixes it. The order code never goes back into a page."""
        form = visit.request.form
        if form.get("move") is None:
            return self._reschedule_lookup(visit)
        move = security.unhide(self.settings.WEB_CSRF_SECRET, visit.session_id, form.get("move"))
        if not _a_move(move):
            return visit.render("message.html", 400, title=i18n.pick(START_AGAIN, visit.lang),
                                text="", again="/reschedule")
        values = forms.typed(form, ("date", "time"))
        if form.get("action") == "slots" or not values["date"]:
            return self._reschedule_choose(visit, move, values)
        if not values["time"]:
            return self._reschedule_choose(visit, move, values, problems=forms.local_problem(
                NEED_A_TIME, visit.lang, "time", "reschedule-", forms.RESCHEDULE_LABELS),
                status=400)
        answer = self.api.call("booking", "POST", "/bookings/reschedule", json={
            "order_code": move["code"], "date": values["date"], "time": values["time"]})
        if answer.ok:
            return visit.render("reschedule_done.html", booking=answer.body,
                                **self._names(answer.body))
        problems = forms.problems_from(answer.body, visit.lang, forms.RESCHEDULE_FIELDS,
                                       "reschedule-", forms.RESCHEDULE_REFUSALS,
                                       forms.RESCHEDULE_LABELS)
        if problems.of("order_code"):  # the code no longer names a movable booking
            return self._reschedule_find(visit, {"date": values["date"]}, problems,
                                         answer.status)
        return self._reschedule_choose(visit, move, values, problems, answer.status)

    def _reschedule_lookup(self, visit):
        """The first step sent: the visit of the typed order code, then the second step."""
        values = forms.typed(visit.request.form, ("order_code", "date"))
        answer = self.api.call("booking", "POST", "/bookings/visit",
                               json={"order_code": values["order_code"]})
        if answer.ok and not _a_visit(answer.body):
            raise Unavailable("booking POST /bookings/visit: not a visit")  # a fault, not a no
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, forms.RESCHEDULE_FIELDS,
                                           "reschedule-", forms.RESCHEDULE_REFUSALS,
                                           forms.RESCHEDULE_LABELS)
            if not values["date"]:
                problems.panel.extend(forms.local_problem(
                    NEED_A_NEW_DAY, visit.lang, "date", "reschedule-",
                    forms.RESCHEDULE_LABELS).panel)
                problems.by_field.setdefault("date", []).append(
                    i18n.pick(NEED_A_NEW_DAY, visit.lang))
            return self._reschedule_find(visit, values, problems, answer.status)
        move = {"code": values["order_code"], **{key: str(answer.body[key]) for key in (
            "centre", "service", "date", "time")}}
        return self._reschedule_choose(visit, move, {"date": values["date"], "time": ""})

    def _reschedule_find(self, visit, values, problems=None, status=200):
        """The first step, the order code field always empty (never echoed)."""
        return visit.render("reschedule.html", status, step="find",
                            values={"date": values.get("date", "")}, problems=problems,
                            tomorrow=self._tomorrow())

    def _reschedule_choose(self, visit, move, values, problems=None, status=200):
        """The second step: the booking now, the new date and its free times."""
        times = None
        if values.get("date"):
            answer = self.api.call(
                "booking", "GET", "/centres/{centre}/services/{service}/slots",
                path={"centre": move["centre"], "service": move["service"]},
                params={"date": values["date"]})
            if answer.ok and isinstance(answer.body, list):
                times = [slot for slot in answer.body if isinstance(slot, dict) and (
                    slot.get("free", 0) > 0 or slot.get("time") == values.get("time"))
                    and (_iso(values["date"]), slot.get("time")) != (move["date"], move["time"])]
            elif not problems:
                problems = forms.problems_from(answer.body, visit.lang, forms.RESCHEDULE_FIELDS,
                                               "reschedule-", forms.RESCHEDULE_REFUSALS,
                                               forms.RESCHEDULE_LABELS)
                status = answer.status
        elif not problems:
            problems = forms.local_problem(NEED_A_NEW_DAY, visit.lang, "date", "reschedule-",
                                           forms.RESCHEDULE_LABELS)
            status = 400
        hidden = security.hide(self.settings.WEB_CSRF_SECRET, visit.session_id, move,
                               MOVE_TTL_SECONDS)
        return visit.render("reschedule.html", status, step="choose", move=hidden,
                            current=move, values=values, problems=problems, times=times,
                            tomorrow=self._tomorrow(), **self._names(move))

    def _tomorrow(self):
        return (baku_today(self.clock()) + timedelta(days=1)).isoformat()

    # --- a lost order code (issue 17 §5) ------------------------------------------------
    @http("GET", "/order-code")
    @page
    def order_code_form(self, visit):
        """The form for a lost order code: ID card, email, date of the visit."""
        return visit.render("order_code.html", values={})

    @http("POST", "/order-code", accepts="form")
    @page
    def order_code_submit(self, visit):
        """The form sent: always the same page when booking took it (whether a booking
        matched is not told: no oracle); the reasons when it refused what was typed."""
        values = forms.typed(visit.request.form, forms.ORDER_CODE_FIELDS)
        answer = self.api.call("booking", "POST", "/bookings/order-code",
                               json=forms.order_code_payload(visit.request.form))
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, forms.ORDER_CODE_FIELDS,
                                           "order-code-", labels=forms.ORDER_CODE_LABELS)
            return visit.render("order_code.html", answer.status, values=values,
                                problems=problems)
        return visit.render("order_code_done.html", **_both("order_code_sent", visit.lang))

    # --- FIN lookup (seed 001 §3.2; F-1, F-2, F-4) ------------------------------------
    @http("GET", "/fin")
    @page
    def fin_form(self, visit):
        """The FIN lookup form: by ID card (F-1) or by name and birth date (F-2)."""
        return visit.render("fin.html", values={}, method=None)

    @http("POST", "/fin", accepts="form")
    @page
    def fin_submit(self, visit):
        """The FIN lookup form sent: the FIN found (F-3), or the reasons (F-4)."""
        method, body = forms.fin_payload(visit.request.form)
        fields = forms.FIN_NAME_FIELDS if method == "name" else forms.FIN_CARD_FIELDS
        values = forms.typed(visit.request.form, fields)
        path = "/fin/by-name" if method == "name" else "/fin/by-id-card"
        answer = self.api.call("registry", "POST", path, json=body)
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, fields, f"fin-{method}-")
            return visit.render("fin.html", answer.status, values=values, method=method,
                                problems=problems)
        return visit.render("fin_result.html", fin=answer.body["fin"])

    # --- complaints (C-1, C-2) ---------------------------------------------------------
    @http("GET", "/complaint")
    @page
    def complaint_form(self, visit):
        """The complaint form (C-1)."""
        return visit.render("complaint.html", values={})

    @http("POST", "/complaint", accepts="form")
    @page
    def complaint_submit(self, visit):
        """The complaint form sent: its reference number, or the reasons."""
        values = forms.typed(visit.request.form, forms.COMPLAINT_FIELDS)
        answer = self.api.call("complaints", "POST", "/complaints",
                               json=forms.complaint_payload(visit.request.form, visit.lang))
        if not answer.ok:
            problems = forms.problems_from(answer.body, visit.lang, forms.COMPLAINT_FIELDS,
                                           "complaint-")
            return visit.render("complaint.html", answer.status, values=values,
                                problems=problems)
        return visit.render("complaint_done.html", complaint=answer.body)

    # --- the counter page (issue 17 §2; staff only: not published, see deploy/nginx) ---
    @http("GET", "/counter")
    @page
    def counter_page(self, visit):
        """The counter: its current ticket and actions, or its services to start with;
        without a counter token in this browser, the form to enter one."""
        token = self._counter_token(visit)
        if not token:
            return visit.render("counter_token.html")
        answer = self.api.call("kiosk_gateway", "GET", "/counter", token=token)
        if not answer.ok:
            return self._token_refused(visit, answer)
        return self._counter_view(visit, answer.body)

    @http("POST", "/counter/token", accepts="form")
    @page
    def counter_token(self, visit):
        """The counter token typed in: kept in this browser (HttpOnly, SameSite=Strict,
        ``/counter`` only) when the gateway knows it, else refused in both languages."""
        token = counter.clean_token(visit.request.form.get("token"))
        if not token:
            return visit.render("counter_token.html", 401,
                                refusal=counter.local_refusal(BAD_TOKEN, visit.lang))
        answer = self.api.call("kiosk_gateway", "GET", "/counter", token=token)
        if not answer.ok:
            return self._token_refused(visit, answer)
        response = _see_other(counter.COUNTER_PATH)
        response.set_cookie(counter.COUNTER_COOKIE, token, httponly=True, samesite="Strict",
                            secure=self.settings.WEB_COOKIE_SECURE, path=counter.COUNTER_PATH)
        return response

    @http("POST", "/counter/forget", accepts="form")
    @page
    def counter_forget(self, visit):
        """This browser forgets the counter token (the counter itself stays signed in
        for its services until it signs out there)."""
        response = _see_other(counter.COUNTER_PATH)
        response.delete_cookie(counter.COUNTER_COOKIE, path=counter.COUNTER_PATH,
                               httponly=True, samesite="Strict",
                               secure=self.settings.WEB_COOKIE_SECURE)
        return response

    @http("POST", "/counter/<action>", accepts="form")
    @page
    def counter_action(self, visit, action):
        """One action of the counter (sign-in, sign-out, call-next, recall, no-show,
        transfer, served), sent to the gateway with the counter's token; then the
        counter page again by a redirect (a reload never calls a second ticket), or
        the page with the gateway's refusal in both languages."""
        if action not in counter.ACTIONS:
            return self.not_found(visit.request, f"counter/{action}")
        token = self._counter_token(visit)
        if not token:
            return _see_other(counter.COUNTER_PATH)
        body = None
        if action == "sign-in":
            view = self.api.call("kiosk_gateway", "GET", "/counter", token=token)
            if not view.ok:
                return self._token_refused(visit, view)
            body = counter.sign_in_payload(visit.request.form, self._offered(view.body))
        elif action == "transfer":
            body = counter.transfer_payload(visit.request.form)
        answer = self.api.call("kiosk_gateway", "POST", f"/counter/{action}", json=body,
                               token=token, headers=counter.press_headers(visit.request.form))
        if answer.ok:
            return _see_other(counter.COUNTER_PATH)
        if answer.status == 401:
            return self._token_refused(visit, answer)
        view = self.api.call("kiosk_gateway", "GET", "/counter", token=token)
        if not view.ok:
            return self._token_refused(visit, view)
        return self._counter_view(visit, view.body, answer.status,
                                  counter.both_languages(answer.body, visit.lang))

    def _counter_token(self, visit):
        return counter.clean_token(visit.request.cookies.get(counter.COUNTER_COOKIE))

    def _token_refused(self, visit, answer):
        """The token form again with the gateway's reason; a token it no longer knows
        (revoked, rotated) is forgotten by this browser."""
        response = visit.render("counter_token.html", answer.status,
                                refusal=counter.both_languages(answer.body, visit.lang))
        if answer.status == 401:
            response.delete_cookie(counter.COUNTER_COOKIE, path=counter.COUNTER_PATH,
                                   httponly=True, samesite="Strict",
                                   secure=self.settings.WEB_COOKIE_SECURE)
        return response

    def _counter_view(self, visit, view, status=200, refusal=None):
        names, offered = self._service_names(visit.lang), self._offered(view)
        waiting = view.get("waiting") if isinstance(view.get("waiting"), dict) else {}
        return visit.render("counter.html", status, view=view, refusal=refusal,
                            press_field=counter.PRESS_FIELD, press=counter.new_press_key(),
                            current=counter.current_ticket(view, visit.lang),
                            names=names, offered=offered,
                            waiting=[(code, waiting[code]) for code in sorted(
                                waiting, key=lambda code: names.get(code, code))])

    def _offered(self, view):
        """The services offered at the counter's centre (booking's reference data),
        else those the gateway named: the counter still works while booking is away."""
        centre = (view.get("centre") or {}).get("code") if isinstance(view, dict) else None
        try:
            centres = self.api.reference()["centres"]
        except Unavailable:
            centres = []
        for item in centres:
            if item.get("code") == centre:
                return list(item.get("services") or [])
        waiting = view.get("waiting") if isinstance(view.get("waiting"), dict) else {}
        return sorted(set(view.get("services") or []) | set(waiting))

    def _service_names(self, lang):
        try:
            services = self.api.reference()["services"]
        except Unavailable:
            return {}
        return {item["code"]: i18n.pick(item.get("name"), lang) for item in services}

    # --- the display board of a centre (issue 17 §2; public) -------------------------
    @http("GET", "/board/<centre>")
    def board(self, request, centre):
        """The full-screen board of ``centre``: the tickets called and their counters,
        newest first, in both languages. Updated every second by board.js; without
        JavaScript it reloads itself every ``BOARD_REFRESH_SECONDS``. An unknown centre
        is a 404 board; a gateway that does not answer, a 503 board that reloads
        itself until it does."""
        code = counter.centre_code(centre)
        if code is None:
            return _board_page(counter.board_view({}), 404, problem="board_unknown")
        try:
            answer = self.api.board(code)
        except Unavailable as error:
            log.warning("the board's gateway did not answer: %s", error)
            return _board_page(counter.board_view({}), 503, problem="board_reconnecting",
                               refresh=BOARD_RETRY_SECONDS)
        if not answer.ok:
            return _board_page(counter.board_view({}), 404, problem="board_unknown")
        return _board_page(counter.board_view(answer.body), script=True,
                           refresh=counter.BOARD_REFRESH_SECONDS)

    @http("GET", "/board/<centre>.json")
    def board_data(self, request, centre):
        """What board.js asks every second: ``{centre, called: [{number, counter,
        service, time, recalls}], waiting, at}`` (:func:`counter.board_view`); 404
        ``unknown_centre``, 503 ``unavailable`` in the platform's error shape."""
        code = counter.centre_code(centre)
        if code is None:
            return json_response(UNKNOWN_CENTRE, 404, BOARD_HEADERS)
        try:
            answer = self.api.board(code)
        except Unavailable as error:
            log.warning("the board's gateway did not answer: %s", error)
            return json_response(BOARD_UNAVAILABLE, 503, dict(BOARD_HEADERS, **{
                "Retry-After": "1"}))
        if not answer.ok:
            return json_response(UNKNOWN_CENTRE, 404, BOARD_HEADERS)
        return json_response(counter.board_view(answer.body), 200, BOARD_HEADERS)


def _see_other(location):
    """303 to ``location``: after a POST the browser GETs the page, so a reload never
    sends the action twice."""
    return Response("", status=303, headers=dict(security.PAGE_HEADERS, Location=location))


def _board_page(board, status=200, problem=None, script=False, refresh=None):
    """The board page (no session, no cookie: the same for every screen)."""
    body = TEMPLATES.get_template("board.html").render(
        board=board, problem=problem, script=script, refresh=refresh,
        every=counter.BOARD_POLL_MILLISECONDS,
        az=functools.partial(i18n.text, lang="az"), en=functools.partial(i18n.text, lang="en"))
    return Response(body, status=status, content_type=HTML, headers=BOARD_HEADERS)
