"""Structured JSON logs, one object per line, carrying the correlation id.

Secrets and personal data never reach a log line: any field whose name says it is a
code, a FIN, a document number or contact data is masked by :func:`redact`, whatever
the caller passed (non-negotiable 5).
"""
import logging
import sys

import structlog
from nameko.extensions import DependencyProvider

SENSITIVE_KEYS = frozenset({
    "code", "confirmation_code", "order_code", "password", "secret", "token", "credential",
    "fin", "id_card", "id_document", "document_number", "email", "phone", "birth_date",
})
MASK = "***"


def redact(_, __, event_dict):
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = MASK
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
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False)])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
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
        configure_logging()

    def worker_setup(self, worker_ctx):
        structlog.contextvars.bind_contextvars(
            service=worker_ctx.service_name,
            entrypoint=worker_ctx.entrypoint.method_name,
            correlation_id=worker_ctx.context_data.get("correlation_id"),
        )

    def worker_teardown(self, worker_ctx):
        structlog.contextvars.clear_contextvars()


def get_logger(name):
    return structlog.get_logger(name)
