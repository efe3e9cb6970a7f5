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
# Reasons about something other than one input are shown at the input that fixes them.
FIELD_ALIASES = {"contact": "email"}
# The label of a field in the error panel, when it is not the field's own name.
LABEL_KEYS = {"text": "complaint_text"}


def label_of(name, lang):
    """The label of form field ``name`` in ``lang`` (``az`` or ``en``), or ""."""
    key = LABEL_KEYS.get(name, name)
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


def problems_from(answer, lang, fields=(), prefix=""):
    """A service's refusal ``{"message", "reasons"}`` in ``lang``. Reasons whose field
    is on this form link to it (``prefix`` + field is the input's id)."""
    answer = answer or {}
    result = Problems(message=pick(answer.get("message"), lang))
    for reason in answer.get("reasons") or []:
        name = FIELD_ALIASES.get(reason.get("field"), reason.get("field"))
        words = pick(reason, lang)
        if name in fields:
            result.panel.append((prefix + name, label_of(name, lang), words))
            result.by_field.setdefault(name, []).append(words)
        else:
            result.panel.append((None, "", words))
    return result


def local_problem(message, lang, field_name=None, prefix=""):
    """A problem found by the pages themselves (e.g. a day not chosen yet)."""
    words = pick(message, lang)
    result = Problems()
    result.panel.append((prefix + field_name if field_name else None,
                         label_of(field_name, lang) if field_name else "", words))
    if field_name:
        result.by_field[field_name] = [words]
    return result
