"""The registry's HTTP API, described once: routes for OpenAPI."""
from marshmallow import Schema, fields

from shared.openapi import Route, build_spec

from . import lookup


class FinAnswer(Schema):
    fin = fields.String(metadata={"example": "5ABC7D1"})
    message = fields.Dict()


class PersonBody(Schema):
    fin = fields.String(required=True)
    name = fields.String(required=True)
    surname = fields.String(required=True)
    patronymic = fields.String(required=True)
    sex = fields.String(required=True, metadata={"enum": ["M", "F"]})
    birth_date = fields.Date(required=True)
    status = fields.String(metadata={"enum": ["citizen", "permanent_resident", "stateless"]})
    card = fields.Dict(required=True, metadata={
        "description": "{series_number, issued_on, expires_on}"})


class InvalidateBody(Schema):
    status = fields.String(required=True, metadata={"enum": ["replaced", "lost"]})


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
