"""What the registry's HTTP API reads and answers (marshmallow): the two FIN queries
(F-1, F-2) and the staff's bodies. Only the shape and plausibility of what is typed:
whether a person or a card exists is the read model's and the decider's to say."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared.vocabulary import fields as asan
from shared.vocabulary.clock import validation_today
from shared.vocabulary.errors import Text

from . import names
from .domain import CHANNELS


class IdCardQuery(Schema):
    """F-1: the FIN by the ID card's series and number (canonical once loaded)."""

    id_card = asan.IdCard(required=True, metadata={"description": "Ş/V seriyası və nömrəsi",
                                                   "example": "AZE12345678"})
    channel = fields.String(load_default="api", metadata={"enum": list(CHANNELS)})

    @validates("channel")
    def known_channel(self, value, **_):
        """One of :data:`CHANNELS`."""
        if value not in CHANNELS:
            raise ValidationError(Text("channel", "Kanal tanınmadı.", "Unknown channel."))


def _letters_problem(value):
    folded = names.fold(value)
    if not 1 <= len(folded) <= 60 or not all(ch.isalpha() or ch in " -'" for ch in folded):
        return Text("letters", "Yalnız hərflər yazılmalıdır.", "Only letters are allowed.")
    return None


class NameQuery(Schema):
    """F-2: the FIN by name, surname, patronymic and birth date; every wrong
    field named at once."""

    name = fields.String(required=True, metadata={"example": "İlham"})
    surname = fields.String(required=True, metadata={"example": "Məmmədov"})
    patronymic = fields.String(required=True, metadata={"example": "Əli oğlu"})
    birth_date = asan.Date(required=True, metadata={"example": "1985-04-17"})
    channel = fields.String(load_default="api", metadata={"enum": list(CHANNELS)})

    @validates_schema(skip_on_field_errors=False)  # every reason at once
    def letters_and_dates(self, data, **_):
        """Names of letters only, a birth date between 1900 and today, a known channel."""
        problems = {}
        for field in ("name", "surname", "patronymic"):
            if field in data:
                problem = _letters_problem(data[field])
                if problem:
                    problems[field] = [problem]
        born = data.get("birth_date")
        if born and not date(1900, 1, 1) <= born <= validation_today():
            problems["birth_date"] = [Text("birth_date", "Doğum tarixi düzgün deyil.",
                                           "The birth date is not plausible.")]
        if data.get("channel", "api") not in CHANNELS:
            problems["channel"] = [Text("channel", "Kanal tanınmadı.", "Unknown channel.")]
        if problems:
            raise ValidationError(problems)


class FinAnswer(Schema):
    """The answer: the FIN and a message in both languages."""

    fin = fields.String(metadata={"example": "5ABC7D1"})
    message = fields.Dict()


class CardBody(Schema):
    """An ID card as staff issue it."""

    series_number = asan.IdCard(required=True, metadata={"example": "AZE12345678"})
    issued_on = asan.Date(required=True)
    expires_on = asan.Date(required=True)


class PersonBody(Schema):
    """Registry staff: a new person with their first ID card."""

    fin = asan.Fin(required=True, metadata={"example": "5AB2C7D"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    surname = fields.String(required=True, validate=validate.Length(min=1, max=60))
    patronymic = fields.String(required=True, validate=validate.Length(min=1, max=80))
    sex = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    birth_date = asan.Date(required=True)
    status = fields.String(load_default="citizen", validate=validate.OneOf(
        ("citizen", "permanent_resident", "stateless")))
    card = fields.Nested(CardBody, required=True)


class InvalidateBody(Schema):
    """Registry staff: a card replaced or lost (the number in the body)."""

    series_number = asan.IdCard(required=True, metadata={"example": "AZE12345678"})
    status = fields.String(required=True, validate=validate.OneOf(("replaced", "lost")))
