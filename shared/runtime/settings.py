"""One typed settings object per service: every setting named once, with its one
default in ``services/<name>/config.yaml`` (``${VAR:default}``), never again in code.

A service declares its settings as a frozen dataclass whose field names *are* the
config keys, typed, each with a comment or docstring line saying what it is::

    @dataclass(frozen=True)
    class ComplaintsSettings(ServiceSettings, CitizenEdgeSettings):
        COMPLAINT_WARN_DAYS: int
        DEADLINE_CHECK_SECONDS: float
        STAFF_TOKEN_SHA256: tuple[str, ...]

and reads it with ``settings = SettingsProvider(ComplaintsSettings)`` on the service
class (``self.settings.COMPLAINT_WARN_DAYS``). :meth:`Settings.from_config` reads
each field from the container's config by its name and converts it by its type; a
key missing from the config, or a value that is not of its type, stops the service
at start-up with every such key named (:class:`SettingsError`). A test holds each
service's ``config.yaml`` keys equal to its class's fields
(tests/unit/test_settings.py), so a key is added in both or in neither.

The bases hold the keys every process of a kind has, read by the shared runtime
(``shared.runtime.db``, ``shared.runtime.consumer``, ``shared.runtime.queues``,
``shared.runtime.relay``, ``shared.edge.http``, ``shared.edge.clients``, ``shared.edge.ratelimit``,
``shared.runtime.rpc``), each through :func:`setting`: a key some ``config.yaml`` declares has no
default in code.

Tunables that no ``config.yaml`` declares keep their one default in code, where they
are read: ``DB_POOL_TIMEOUT_SECONDS`` (5 s) and ``COMMAND_ATTEMPTS`` (5) in
``shared.runtime.db``, ``IDEMPOTENCY_WAIT_SECONDS`` (5 s) in ``shared.edge.idempotency``,
``RELAY_BATCH_SIZE`` (500) and ``RELAY_POLL_INTERVAL`` (0.05 s) as ``shared.runtime.relay.Relay``'s
arguments.
A test (tests/unit/test_settings.py) holds ``shared/*.py`` to this: no
``config.get("KEY", …)`` for a key any ``config.yaml`` declares.
"""
import types
import typing
from dataclasses import dataclass, fields

from nameko.extensions import DependencyProvider

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class SettingsError(ValueError):
    """A service's config lacks declared keys or holds a value not of its type;
    ``problems``: ``{key: what is wrong}``."""

    def __init__(self, settings_class, problems):
        owner = settings_class.__name__ if settings_class else "config"
        super().__init__(f"{owner}: " + "; ".join(
            f"{key}: {problem}" for key, problem in sorted(problems.items())))
        self.problems = problems


def _convert(kind, value):
    """``value`` as read from YAML, as ``kind`` (one of the types a setting may have);
    ``ValueError``/``TypeError`` when it is not one."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return None if value in (None, "") else _convert(inner[0], value)
    if kind is bool:
        text = str(value).strip().lower()
        if text not in _TRUE + _FALSE:
            raise ValueError(f"{value!r} is not true or false")
        return text in _TRUE
    if kind in (int, float):
        if isinstance(value, bool):
            raise TypeError(f"{value!r} is not a number")
        return kind(value)
    if kind is str:
        if value is None:
            raise TypeError("empty")
        return str(value)
    if origin is tuple:
        if isinstance(value, (str, dict)):
            raise TypeError(f"{value!r} is not a list")
        return tuple(_convert(args[0], item) for item in (value or ()))
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{value!r} is not a mapping")
        return {str(key): _convert(args[1], item) for key, item in value.items()}
    raise TypeError(f"settings cannot be of type {kind!r}")


def setting(config, key, kind):
    """``config[key]`` converted to ``kind`` as a settings field of that type is (the
    shared runtime reads the platform keys so, with no default of its own);
    :class:`SettingsError` naming ``key`` when it is missing or not of ``kind``."""
    if key not in config:
        raise SettingsError(None, {key: "missing from the config"})
    try:
        return _convert(kind, config[key])
    except (TypeError, ValueError) as error:
        raise SettingsError(None, {key: f"not a {kind}: {error}"}) from None


@dataclass(frozen=True)
class Settings:
    """The base of every settings class (see the module)."""

    @classmethod
    def keys(cls):
        """The config keys this class declares (its field names), in order."""
        return tuple(field.name for field in fields(cls))

    @classmethod
    def from_config(cls, config):
        """The settings of ``config`` (a service's config mapping, as nameko or
        ``shared.runtime.config.load_config`` reads it). Keys it does not declare are left to
        whoever reads them; ``SettingsError`` naming every declared key missing or
        of the wrong type."""
        hints = typing.get_type_hints(cls)
        values, problems = {}, {}
        for key in cls.keys():
            if key not in config:
                problems[key] = "missing from the config"
                continue
            try:
                values[key] = _convert(hints[key], config[key])
            except (TypeError, ValueError) as error:
                problems[key] = f"not a {hints[key]}: {error}"
        if problems:
            raise SettingsError(cls, problems)
        return cls(**values)


@dataclass(frozen=True)
class PagesSettings(Settings):
    """What every nameko process has: its name, its broker account, where it listens,
    how many workers, and how its HTTP server takes a burst (``shared.edge.http``): requests
    handled at once before a 503, the listening backlog, the idle keep-alive in seconds
    (docs/OPERATIONS.md, "Bursts and overload")."""

    SERVICE_NAME: str
    AMQP_URI: str
    WEB_SERVER_ADDRESS: str
    max_workers: int
    HTTP_MAX_PENDING: int
    HTTP_LISTEN_BACKLOG: int
    HTTP_KEEPALIVE_SECONDS: float


@dataclass(frozen=True)
class ServiceSettings(PagesSettings):
    """What every event-sourced service adds: its database, its relay, and how its
    events are retried, kept, signed and numbered."""

    DATABASE_URL: str
    DB_POOL_SIZE: int
    RELAY_METRICS_PORT: int
    RELAY_METRICS_BIND: str
    EVENT_RETRY_DELAYS_MS: tuple[int, ...]
    EVENT_DELIVERY_LIMIT: int
    EVENT_STREAM_MAX_AGE: str
    EVENT_STREAM_MAX_BYTES: int
    EVENT_SIGNING_KEYS: str
    EVENT_SEQUENCE_FORMAT: str


@dataclass(frozen=True)
class CitizenEdgeSettings(Settings):
    """What a service citizens reach through the pages adds (``shared.edge.clients``,
    ``shared.edge.ratelimit``): its limits (``{name: spec}``), whether they apply, the
    proxies before it and the hashes of the pages' token."""

    RATE_LIMITS: dict[str, str]
    RATE_LIMITS_ENABLED: bool
    PROXY_HOPS: int
    FRONTEND_TOKEN_SHA256: tuple[str, ...]


class SettingsProvider(DependencyProvider):
    """``settings = SettingsProvider(MySettings)`` on a service: the typed settings,
    read once when the container starts (a missing or malformed key stops the start,
    :class:`SettingsError`), the same object for every worker."""

    def __init__(self, settings_class):
        self.settings_class = settings_class
        self.settings = None

    def setup(self):
        """Read and check the settings from the container's config."""
        self.settings = self.settings_class.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        """The settings object."""
        return self.settings
