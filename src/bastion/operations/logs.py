"""Structured logs on standard output (structlog): one JSON object a line for ``bastion serve`` and
``bastion worker`` (for Loki or any collector), a readable console format for the demo.

Every logger goes through the same formatter: Bastion's own (``structlog.get_logger`` or the
standard library's), Django's, gunicorn's and huey's. A line carries ids, never people: the
request line (``bastion.operations.middleware``) names the request id, organisation id, user id,
route, status and duration, and neither the path (it holds slugs and ids of other kinds), nor the
client's address, nor any header. ``django.request``'s own 4xx warnings, which quote the path, are
left out: the request line says the same with the route.
"""

from __future__ import annotations

import structlog

FORMATS = ("json", "console")


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def logging_config(log_format: str, level: str) -> dict:
    """Django's ``LOGGING`` for ``log_format`` (json or console); also configures structlog."""
    renderer = (structlog.processors.JSONRenderer() if log_format == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.processors.format_exc_info, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = {"class": "logging.StreamHandler", "formatter": "structured", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                               structlog.processors.format_exc_info, renderer],
                "foreign_pre_chain": [*_shared_processors(), structlog.stdlib.ExtraAdder()],
            },
        },
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "django.request": {"level": "ERROR"},
            # The job consumer adds a handler of its own to "huey" only when it has none: this one.
            "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


def request_logger() -> structlog.stdlib.BoundLogger:
    return structlog.get_logger("bastion.request")
