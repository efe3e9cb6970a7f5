"""Structured JSON logs, one object per line, carrying the correlation id.

Secrets and personal data never reach a log line (non-negotiable 6), in two layers:
any field whose name says it is a code, a FIN, a document number or contact data is
masked by :func:`redact`, whatever the caller passed; and every text of a line (the
message, an exception and its traceback, any value) is searched for the shapes of
an ID card number, an email address, an Azerbaijani phone number, a FIN and a
six-digit code, which are masked too — a database error quoting a value, or a
careless message, is caught as well. URLs never reach a line: the access log has
the route template (``shared.edge.http``).

Each process writes to stderr and, when ``ASAN_LOG_DIR`` is set (``make run`` sets
it to ``.state/log``), also to ``<ASAN_LOG_DIR>/<service>.log``.
"""
import logging
import os
import re
import sys
from pathlib import Path

import structlog
from nameko.extensions import DependencyProvider

SENSITIVE_KEYS = frozenset({
    "code", "confirmation_code", "order_code", "password", "secret", "token", "credential",
    "fin", "id_card", "id_document", "document_number", "email", "phone", "birth_date",
})
MASK = "***"


# Shapes, not spellings: the platform reads identifiers in any case and in any
# script's digits (shared.vocabulary.identity), so the masks do too (\d is every script's digit
# here, on purpose).
PATTERNS = re.compile("|".join((
    r"(?<![^\W\d_])(?:[Aa][Zz][Ee]|[Aa][Aa])[ \-]?\d(?:[ \-]?\d){6,7}(?!\d)",   # ID card
    r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+",                                       # email
    r"(?<!\d)(?:\+?994|\(?0)[ \-()]*\d(?:[ \-()]*\d){8}(?!\d)",               # AZ phone
    r"(?<![\w.:\-])(?=[0-9A-HJ-NP-Za-hj-np-z]*\d)(?=[0-9A-HJ-NP-Za-hj-np-z]*[A-Za-z])"
    r"[0-9A-HJ-NP-Za-hj-np-z]{7}(?![\w])",                                     # FIN
    r"(?<![\w.:\-])\d{6}(?!\w)",                                              # a code
)))


def _scrub(value):
    if isinstance(value, str):
        return PATTERNS.sub(MASK, value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    return value


def redact(_, __, event_dict):
    """Mask fields named like secrets or personal data, then the shapes of personal
    data in every text of the line."""
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = MASK
        elif key not in ("timestamp", "level", "logger"):
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def scrub_rendered(_, __, event_dict):
    """After the traceback is rendered into ``exception``: scrub it too."""
    if "exception" in event_dict:
        event_dict["exception"] = _scrub(event_dict["exception"])
    return event_dict


_configured = False


def configure_logging(service=None, level=None):
    """Route stdlib logging and structlog through one JSON renderer on stderr."""
    global _configured
    if _configured:
        return
    _configured = True
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    structlog.configure(
        processors=shared + [structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared + [structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, scrub_rendered,
                    structlog.processors.JSONRenderer(ensure_ascii=False)])
    handlers = [logging.StreamHandler(sys.stderr)]
    log_dir = os.environ.get("ASAN_LOG_DIR")
    if log_dir and service:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(Path(log_dir) / f"{service}.log", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level or logging.INFO)
    # nameko logs an expected exception (a refusal: the caller's mistake, answered with
    # a 4xx) as a warning with its traceback; unexpected ones stay at error level.
    logging.getLogger("nameko.containers").setLevel(logging.ERROR)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


class WorkerLogging(DependencyProvider):
    """Binds the correlation id and entrypoint to every log line of a worker.
    Each eventlet worker runs in its own greenlet, which has its own context."""

    def setup(self):
        """Configures JSON logging for the service once, at container start
        (:func:`configure_logging`)."""
        configure_logging(service=self.container.service_name)

    def worker_setup(self, worker_ctx):
        """Binds ``service``, ``entrypoint`` and ``correlation_id`` to every log line of the
        worker."""
        structlog.contextvars.bind_contextvars(
            service=worker_ctx.service_name,
            entrypoint=worker_ctx.entrypoint.method_name,
            correlation_id=worker_ctx.context_data.get("correlation_id"),
        )

    def worker_teardown(self, worker_ctx):
        """Forgets the worker's bound context."""
        structlog.contextvars.clear_contextvars()


def get_logger(name):
    """A structlog logger named ``name``, whose lines carry the worker's bound context."""
    return structlog.get_logger(name)
