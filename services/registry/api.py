"""The registry's HTTP API, described once: routes for OpenAPI."""
from marshmallow import Schema, fields, validate

from shared import fields as asan
from shared.openapi import Route, build_spec

from . import lookup


class FinAnswer(Schema):
    fin = fields.String(metadata={"example": "5ABC7D1"})
    message = fields.Dict()


class CardBody(Schema):
    series_number = asan.IdCard(required=True, metadata={"example": "AZE12345678"})
    issued_on = asan.Date(required=True)
    expires_on = asan.Date(required=True)


class PersonBody(Schema):
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
    series_number = asan.IdCard(required=True, metadata={"example": "AZE12345678"})
    status = fields.String(required=True, validate=validate.OneOf(("replaced", "lost")))


NOTE = ("Always open: no account, no fee (F-5). Every query is registered (F-6). A "
        "refusal never says which field was wrong (F-4); 429 only asks to wait a moment.")

ROUTES = [
    Route("POST", "/fin/by-id-card", "The FIN by ID card series and number (F-1)",
          request=lookup.IdCardQuery, response=FinAnswer, command=True,
          errors={400: ("validation_failed",), 404: ("not_found",), 429: ("too_many_requests",)},
          description=NOTE, tags=("lookup",)),
    Route("POST", "/fin/by-name", "The FIN by name, surname, patronymic and birth date (F-2)",
          request=lookup.NameQuery, response=FinAnswer, command=True,
          errors={400: ("validation_failed",), 404: ("not_found",), 409: ("ambiguous",),
                  429: ("too_many_requests",)},
          description=NOTE + " 409: more than one person matches; search by ID card.",
          tags=("lookup",)),
    Route("POST", "/admin/persons", "Registry staff: a new person with an ID card",
          request=PersonBody, status=201, security=True, command=True, tags=("registry",),
          errors={400: ("validation_failed",), 409: ("fin_taken", "card_taken")}),
    Route("POST", "/admin/id-cards/invalidate",
          "Registry staff: an ID card replaced or lost (the number in the body, never the URL)",
          request=InvalidateBody, security=True, command=True, tags=("registry",),
          errors={400: ("validation_failed",), 404: ("no_valid_card",)}),
    Route("POST", "/admin/id-cards/{series_number}/invalidate",
          "Gone: the card number no longer goes in the URL", status=410, deprecated=True,
          tags=("registry",), errors={410: ("moved_to_body",)}),
]


def spec():
    return build_spec("Ministry of Justice — personal identification number (FIN) lookup",
                      "1.0.0", "Seed 001: learn your FIN electronically.", ROUTES)
