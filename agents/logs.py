"""Structured logs: one JSON object per line (orjson).

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``;
context passed with ``extra={"context": {...}}`` (topic, partition, offset, ...)
is kept as an object, and an exception as its formatted traceback. Event
payloads and secrets are never logged at INFO: callers pass ids and positions,
and :func:`redact` masks credentials in URLs and tokens before they are logged.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import orjson

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask ``user:password@`` in URLs (ClickHouse DSNs carry them)."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line for ``record`` (without the newline)."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        context = getattr(record, "context", None)
        if isinstance(context, dict) and context:
            line["context"] = context
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for a worker: JSON lines on stderr at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
                "level": level,
            }
        },
        "root": {"level": level, "handlers": ["default"]},
    }
