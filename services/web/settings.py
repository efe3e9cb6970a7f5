"""The citizen pages' settings: every key of ``config.yaml``, typed, named once
(``shared.runtime.settings``); their one default is in ``config.yaml``."""
from dataclasses import dataclass

from shared.runtime.settings import PagesSettings


@dataclass(frozen=True)
class WebSettings(PagesSettings):
    """The process's keys, and: the services' HTTP APIs (``*_URL``, called
    server-side), ``BACKEND_TIMEOUT_SECONDS`` (a service slower than this: the
    bilingual "try again shortly" page, 503), ``WEB_CSRF_SECRET`` (signs CSRF tokens
    and the values carried between two pages), ``WEB_COOKIE_SECURE`` (cookies over
    TLS only), ``FRONTEND_TOKEN`` (presented with the citizen's address so each
    service counts citizens, not the pages), ``WEB_PROXY_HOPS`` (reverse proxies
    before the pages)."""

    BOOKING_URL: str
    REGISTRY_URL: str
    COMPLAINTS_URL: str
    KIOSK_GATEWAY_URL: str
    BACKEND_TIMEOUT_SECONDS: float
    WEB_CSRF_SECRET: str
    WEB_COOKIE_SECURE: bool
    FRONTEND_TOKEN: str
    WEB_PROXY_HOPS: int
