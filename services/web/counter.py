"""The counter page and the display board (issue 17 §2): what the pages send the kiosk
gateway for a counter and what they take from its counter and board answers; pure, no
I/O.

The kiosk gateway owns counters and tickets (issue 17 §1: ``GET /counter``,
``POST /counter/<action>``, ``GET /centres/{centre}/board``); the pages hold nothing
of their own. A counter's token (given by the administrators, ``<counter_id>.<secret>``)
is kept in the staff browser in an HttpOnly, SameSite=Strict cookie limited to
``/counter`` and forwarded as ``Authorization: Bearer`` on each call: the pages have no
database, and any number of pages processes can serve the same counter.

The board shows ticket numbers, counter names and service names only — never a name or
anything else about a person — so it is public, cacheable by nobody, and the same for
every visitor.
"""
import re
import secrets
from datetime import datetime

from shared.vocabulary import dates
from shared.vocabulary.clock import BAKU

from .i18n import LANGUAGES, pick

COUNTER_COOKIE = "asan_counter"
COUNTER_PATH = "/counter"
# What a token may be made of (URL-safe base64 and a separator): anything else is not a
# token, and must never reach an HTTP header (a newline there would be a new header).
TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,256}", re.ASCII)
# A centre code of the reference data (``baku-1``, ``quba``); anything else is answered
# by the pages themselves, without a call.
CENTRE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}", re.ASCII)
# The gateway's routes a counter page may post to, with the key that sends each one
# from the keyboard (counter.js; the buttons say it too). Sign-in/out have no key.
ACTIONS = {"sign-in": None, "sign-out": None, "call-next": "N", "recall": "R",
           "served": "S", "no-show": "X", "transfer": "T"}
# Each counter page's forms carry a fresh random key (``press``), sent to the gateway as
# ``Idempotency-Key``: a double press, or the browser sending the same form again, is
# one call there (its @once routes), while the next page's press is a new one.
PRESS_FIELD = "press"
PRESS = re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII)
BOARD_ROWS = 12  # the gateway sends at most 12 (issue 17 §1)
FINISHED = ("served", "no_show")  # a board row's status once the call is over
# Seconds between two reloads of a board without JavaScript (with it, board.js asks
# every second): a new call shows within this many seconds plus one page load.
BOARD_REFRESH_SECONDS = 2
BOARD_POLL_MILLISECONDS = 1000


def clean_token(typed):
    """The counter token in what staff typed or pasted (``Bearer `` and spaces around it
    are dropped), or None when it cannot be a token."""
    value = str(typed or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value if TOKEN.fullmatch(value) else None


def new_press_key():
    """A fresh key for the forms of one counter page (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def press_headers(form):
    """``{"Idempotency-Key": …}`` of the form's press key, or ``{}`` if it has none
    that can be one (then each request is its own, as the gateway allows)."""
    key = str(form.get(PRESS_FIELD) or "")
    return {"Idempotency-Key": key} if PRESS.fullmatch(key) else {}


def centre_code(value):
    """``value`` if it can be a centre code, else None (answered 404 by the pages)."""
    value = str(value or "")
    return value if CENTRE.fullmatch(value) else None


def baku_clock(iso):
    """``"HH:MM"`` in Baku of an ISO-8601 instant with offset, or "" if it is not one."""
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone(BAKU).strftime("%H:%M")


def baku_day(iso):
    """``{"az": "çərşənbə axşamı, 08.12.2026", "en": "Tuesday, 08.12.2026"}``: the Baku
    day of an ISO-8601 instant with offset (:func:`shared.vocabulary.dates.day_both`), or None."""
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return dates.day_both(moment.astimezone(BAKU).date())


def _names(value):
    """``{code, az, en}`` of a centre or a service, as strings, whatever was sent."""
    value = value if isinstance(value, dict) else {}
    code = str(value.get("code") or "")
    return {"code": code, "az": str(value.get("az") or code), "en": str(value.get("en") or code)}


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def board_view(answer):
    """The gateway's board answer ``{centre, called: [...], waiting, at}`` reduced to
    what a board shows (the same for the HTML page and ``/board/<centre>.json``):
    ``{centre: {code, az, en}, called: [{number, counter, service: {code, az, en},
    time: "HH:MM" Baku, recalls, done}], waiting: int, at, day: {az, en} or None}``
    (``day``: the Baku day of ``at`` with its weekday in both languages), newest first, at most
    :data:`BOARD_ROWS`; ``done``: the visitor was served or did not come (the board
    shows it dimmed), else the ticket is being called now. Fields are picked one by
    one: nothing else the gateway might add reaches the public page."""
    answer = answer if isinstance(answer, dict) else {}
    called = answer.get("called") if isinstance(answer.get("called"), list) else []
    rows = [{"number": str(item.get("number") or ""), "counter": str(item.get("counter") or ""),
             "service": _names(item.get("service")), "time": baku_clock(item.get("called_at")),
             "recalls": _count(item.get("recalls")),
             "done": item.get("status") in FINISHED}
            for item in called[:BOARD_ROWS] if isinstance(item, dict)]
    return {"centre": _names(answer.get("centre")), "called": rows,
            "waiting": _count(answer.get("waiting")), "at": str(answer.get("at") or ""),
            "day": baku_day(answer.get("at"))}


def both_languages(body, lang):
    """A refusal of the gateway ``{error, message: {az, en}, …}`` as ``[(lang, text),
    (other, text)]``: the page's language first, then the other one, so that either
    reader understands why (issue 17 §2: refusals in az and en)."""
    message = body.get("message") if isinstance(body, dict) else None
    order = [lang] + [other for other in LANGUAGES if other != lang]
    return [(each, pick(message, each)) for each in order if pick(message, each)]


def local_refusal(texts, lang):
    """A refusal of the pages themselves (``{"az": …, "en": …}``) in the same shape."""
    return both_languages({"message": texts}, lang)


def sign_in_payload(form, offered):
    """``POST /counter/sign-in``'s body from the ticked ``services`` of the form: only
    codes offered at the counter's centre, in the order offered (the gateway refuses an
    empty list with its reasons)."""
    ticked = set(form.getlist("services")) if hasattr(form, "getlist") else set()
    return {"services": [code for code in offered if code in ticked]}


def transfer_payload(form):
    """``POST /counter/transfer``'s body: the service chosen (the gateway says whether
    it is offered)."""
    return {"service": str(form.get("service") or "").strip()}


def current_ticket(view, lang):
    """The current ticket of a CounterView for the page, or None: its number, service
    name in ``lang``, booked time (or None: a walk-in), the times it was issued and
    called (``HH:MM`` Baku), recalls so far and the recalls allowed."""
    current = view.get("current") if isinstance(view, dict) else None
    if not isinstance(current, dict):
        return None
    service = _names(current.get("service"))
    return {"number": str(current.get("number") or ""), "service": service["code"],
            "service_name": pick(service, lang), "booked_time": current.get("booked_time"),
            "issued": baku_clock(current.get("issued_at")),
            "called": baku_clock(current.get("called_at")),
            "recalls": _count(current.get("recalls")),
            "recalls_allowed": _count(view.get("recalls_allowed"))}
