"""The registry's HTTP API, described once: routes for OpenAPI (the schemas are in
``schemas.py``)."""
from shared.edge.openapi import Route, build_spec

from .schemas import FinAnswer, IdCardQuery, InvalidateBody, NameQuery, PersonBody


NOTE = ("Always open: no account, no fee (F-5). Every query is registered (F-6). A "
        "refusal never says which field was wrong (F-4); 429 only asks to wait a moment.")

ROUTES = [
    Route("POST", "/fin/by-id-card", "The FIN by ID card series and number (F-1)",
          request=IdCardQuery, response=FinAnswer, command=True,
          errors={400: ("validation_failed",), 404: ("not_found",), 429: ("too_many_requests",)},
          description=NOTE, tags=("lookup",)),
    Route("POST", "/fin/by-name", "The FIN by name, surname, patronymic and birth date (F-2)",
          request=NameQuery, response=FinAnswer, command=True,
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
    """The OpenAPI document of the registry (a dict)."""
    return build_spec("Ministry of Justice — personal identification number (FIN) lookup",
                      "1.0.0", "F-1…F-6: learn your FIN electronically.", ROUTES)
