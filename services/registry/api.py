"""The registry's HTTP API, described once: routes for OpenAPI."""
from marshmallow import Schema, fields, validate, validates

from shared.openapi import Route, build_spec

from . import lookup


class FinAnswer(Schema):
    fin = fields.String(metadata={"example": "5ABC7D1"})
    message = fields.Dict()


class CardBody(Schema):
    series_number = fields.String(required=True)
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)

    @validates("series_number")
    def well_formed(self, value, **_):
        lookup.IdCardQuery().well_formed(value)


class PersonBody(Schema):
    fin = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-HJ-NP-Z]{7}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    surname = fields.String(required=True, validate=validate.Length(min=1, max=60))
    patronymic = fields.String(required=True, validate=validate.Length(min=1, max=80))
    sex = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    birth_date = fields.Date(required=True)
    status = fields.String(load_default="citizen", validate=validate.OneOf(
        ("citizen", "permanent_resident", "stateless")))
    card = fields.Nested(CardBody, required=True)


class InvalidateBody(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("replaced", "lost")))



NOTE = ("Always open: no account, no fee (F-5). Every query is registered (F-6). A "
        "refusal never says which field was wrong (F-4); 429 only asks to wait a moment.")

ROUTES = [
    Route("POST", "/fin/by-id-card", "The FIN by ID card series and number (F-1)",
          request=lookup.IdCardQuery, response=FinAnswer, errors=(400, 404, 429),
          description=NOTE, tags=("lookup",)),
    Route("POST", "/fin/by-name", "The FIN by name, surname, patronymic and birth date (F-2)",
          request=lookup.NameQuery, response=FinAnswer, errors=(400, 404, 409, 429),
          description=NOTE + " 409: more than one person matches; search by ID card.",
          tags=("lookup",)),
    Route("POST", "/admin/persons", "Registry staff: a new person with an ID card",
          request=PersonBody, status=201, errors=(400, 401, 409), security=True,
          tags=("registry",)),
    Route("POST", "/admin/id-cards/{series_number}/invalidate",
          "Registry staff: an ID card replaced or lost", request=InvalidateBody,
          errors=(400, 401, 404), security=True, tags=("registry",)),
]


def spec():
    return build_spec("Ministry of Justice — personal identification number (FIN) lookup",
                      "1.0.0", "Seed 001: learn your FIN electronically.", ROUTES)
