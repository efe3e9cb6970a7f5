"""From the posted forms to the services' JSON bodies, and from their refusals back
to the fields of the form; pure, no I/O."""
from dataclasses import dataclass, field

from .i18n import TEXT, pick, text

BOOKING_FIELDS = ("name", "surname", "patronymic", "id_card", "phone", "email",
                  "service", "centre", "date", "time")
FIN_CARD_FIELDS = ("id_card",)
FIN_NAME_FIELDS = ("name", "surname", "patronymic", "birth_date")
COMPLAINT_FIELDS = ("service", "text", "name", "patronymic", "surname", "address",
                    "email", "postal_address", "workplace")
# Moving a booking (issue 17 §5) and asking for a new order code.
RESCHEDULE_FIELDS = ("order_code", "date", "time")
ORDER_CODE_FIELDS = ("id_card", "email", "date")
# Reasons about something other than one input are shown at the input that fixes them.
FIELD_ALIASES = {"contact": "email"}
# A move's refusals that name no field (their message is their one reason), by the
# input that fixes them: every reason on the page links to a field.
RESCHEDULE_REFUSALS = {"no_active_booking": "order_code", "visit_started": "order_code",
                       "same_time": "time", "slot_full": "time", "already_booked": "date",
                       "centre_closed": "date", "day_limit": "date"}
RESCHEDULE_LABELS = {"date": "new_date", "time": "new_time"}
ORDER_CODE_LABELS = {"date": "visit_date"}
# The label of a field in the error panel, when it is not the field's own name.
LABEL_KEYS = {"text": "complaint_text"}


def label_of(name, lang, labels=None):
    """The label of form field ``name`` in ``lang`` (``az`` or ``en``), or ""; ``labels``:
    this form's own label keys by field (a move's "new date")."""
    key = (labels or {}).get(name) or LABEL_KEYS.get(name, name)
    return text(key, lang) if key in TEXT else ""


def typed(form, fields):
    """What the person typed in ``fields``, trimmed; to fill the form in again."""
    return {name: str(form.get(name) or "").strip() for name in fields}


def booking_payload(form, lang):
    """Q-5: a field left empty is left out, so that booking says "required" for it
    together with every other reason."""
    body = {name: value for name, value in typed(form, BOOKING_FIELDS).items() if value}
    body["language"] = lang
    body["channel"] = "web"  # counted apart by monitoring (M-1)
    return body


def slot_query(form):
    """(centre, service, date) when all three are chosen, else None."""
    values = typed(form, ("centre", "service", "date"))
    if all(values.values()):
        return values["centre"], values["service"], values["date"]
    return None


def order_code_payload(form):
    """Issue 17 §5: the ID card, email and day of the visit; a field left empty is left
    out, so that booking names every missing one."""
    return {name: value for name, value in typed(form, ORDER_CODE_FIELDS).items() if value}


def fin_payload(form):
    """F-1 by ID card or F-2 by name; (method, body) with the web channel."""
    if form.get("method") == "name":
        body = {name: value for name, value in typed(form, FIN_NAME_FIELDS).items() if value}
        return "name", dict(body, channel="web")
    body = {name: value for name, value in typed(form, FIN_CARD_FIELDS).items() if value}
    return "id_card", dict(body, channel="web")


def complaint_payload(form, lang):
    """C-1, C-2: optional identity fields left empty are sent as null, required ones
    left out, so that complaints names every missing one."""
    values = typed(form, COMPLAINT_FIELDS)
    body = {name: (value or None) for name, value in values.items()
            if name not in ("service", "text")}
    body.update({name: values[name] for name in ("service", "text") if values[name]})
    body["language"] = lang
    return body


@dataclass
class Problems:
    """A refusal laid out for a page: every reason for the panel at the top, and the
    same reasons by field for the messages next to the inputs."""
    message: str = ""
    panel: list = field(default_factory=list)  # [(field id or None, label, text)]
    by_field: dict = field(default_factory=dict)  # field → [text]

    def __bool__(self):
        return bool(self.message or self.panel)

    def of(self, name):
        """The reasons given for field ``name`` (a list, maybe empty)."""
        return self.by_field.get(name, [])


def problems_from(answer, lang, fields=(), prefix="", by_code=None, labels=None):
    """A service's refusal ``{"message", "reasons"}`` in ``lang``. Reasons whose field
    is on this form link to it (``prefix`` + field is the input's id); a reason with no
    field goes to ``by_code[its code]`` when given; ``labels`` as :func:`label_of`."""
    answer = answer if isinstance(answer, dict) else {}
    result = Problems(message=pick(answer.get("message"), lang))
    for reason in answer.get("reasons") or []:
        if not isinstance(reason, dict):
            continue
        name = FIELD_ALIASES.get(reason.get("field"), reason.get("field"))
        if name is None and by_code:
            name = by_code.get(reason.get("code"))
        words = pick(reason, lang)
        if name in fields:
            result.panel.append((prefix + name, label_of(name, lang, labels), words))
            result.by_field.setdefault(name, []).append(words)
        else:
            result.panel.append((None, "", words))
    return result


def local_problem(message, lang, field_name=None, prefix="", labels=None):
    """A problem found by the pages themselves (e.g. a day not chosen yet)."""
    words = pick(message, lang)
    result = Problems()
    result.panel.append((prefix + field_name if field_name else None,
                         label_of(field_name, lang, labels) if field_name else "", words))
    if field_name:
        result.by_field[field_name] = [words]
    return result
