"""The citizen's web pages (seed 000 §2.4 and its annex form, seed 001 §3.2, the
complaints of 000 §3.5): server-rendered, Azerbaijani by default, working without
JavaScript. The pages hold no data of their own: every answer comes from the booking,
registry and complaints services' HTTP APIs."""
import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from shared.clock import BAKU, Clock, baku_today
from shared.http import http
from shared.platform import PlatformService

from . import forms, i18n, security
from .backends import Backends, Unavailable

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
HTML = "text/html; charset=utf-8"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), trim_blocks=True,
                        lstrip_blocks=True)
STYLESHEET = (HERE / "static" / "site.css").read_bytes()
NEED_A_DAY = {"az": "Boş vaxtları görmək üçün xidməti, mərkəzi və tarixi seçin.",
              "en": "Choose the service, the centre and the date to see the free times."}
# What the result page shows; the ID card and phone are not carried to it.
SUMMARY_FIELDS = ("name", "surname", "patronymic", "email", "service", "centre", "date", "time")
START_AGAIN = {"az": "Bu sorğu artıq etibarsızdır; zəhmət olmasa yenidən başlayın.",
               "en": "This request is no longer valid; please start again."}


class WebSettings(DependencyProvider):
    """The pages' secrets and cookie settings, from config."""
    def setup(self):
        """Read ``WEB_CSRF_SECRET`` and the cookie settings."""
        config = self.container.config
        self.csrf_secret = str(config["WEB_CSRF_SECRET"])
        self.secure_cookies = str(config.get("WEB_COOKIE_SECURE", "false")).lower() in (
            "1", "true", "yes")

    def get_dependency(self, worker_ctx):
        """The same settings for every worker."""
        return self


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
        return not self.new_session and security.csrf_valid(self.settings.csrf_secret,
                                                            self.session_id, token)

    def render(self, template, status=200, **context):
        """The page ``template`` rendered in the visitor's language, with ``status``; sets
        the session and language cookies."""
        t = functools.partial(i18n.text, lang=self.lang)
        body = TEMPLATES.get_template(template).render(
            lang=self.lang, t=t, pick=functools.partial(i18n.pick, lang=self.lang),
            path=self.request.path, csrf_field=security.CSRF_FIELD,
            csrf_token=security.csrf_token(self.settings.csrf_secret, self.session_id),
            problems=context.pop("problems", None) or forms.Problems(), **context)
        response = Response(body, status=status, content_type=HTML,
                            headers=security.PAGE_HEADERS)
        cookie = {"httponly": True, "samesite": "Lax", "secure": self.settings.secure_cookies,
                  "path": "/"}
        if self.new_session:
            response.set_cookie(security.SESSION_COOKIE, self.session_id, **cookie)
        if self.remember_lang:
            response.set_cookie(security.LANG_COOKIE, self.lang, max_age=365 * 86400, **cookie)
        return response


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


def _baku_time(iso):
    try:
        return datetime.fromisoformat(str(iso)).astimezone(BAKU).strftime("%H:%M")
    except ValueError:
        return ""


class WebService(PlatformService):
    """The citizen pages (no database, no relay): booking, cancellation, FIN lookup and
    complaints in Azerbaijani and English, over the backend services' APIs; they work
    without JavaScript."""
    name = "web"
    settings = WebSettings()
    api = Backends()
    clock = Clock()

    @http("GET", "/static/site.css")
    def stylesheet(self, request):
        """The pages' stylesheet (cached an hour)."""
        return Response(STYLESHEET, content_type="text/css; charset=utf-8",
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
        summary = security.unseal(self.settings.csrf_secret, visit.request.form.get("summary"))
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
        sealed = security.seal(self.settings.csrf_secret, summary)
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
