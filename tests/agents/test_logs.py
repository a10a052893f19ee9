"""Structured logs: one JSON object per line."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson

from agents.logs import JsonFormatter, logging_config, redact


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("agents.sink", logging.WARNING, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_line_has_level_logger_message_and_context() -> None:
    line = JsonFormatter().format(
        record("write failed", context={"topic": "billing-sessions", "partition": 3, "offset": 41})
    )
    assert "\n" not in line
    data = orjson.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "agents.sink"
    assert data["message"] == "write failed"
    assert data["context"] == {"topic": "billing-sessions", "partition": 3, "offset": 41}
    assert data["ts"].endswith("+00:00")


def fail() -> None:
    raise RuntimeError("cannot reach http://billing:pw@clickhouse:8123/")


def test_exceptions_are_one_field_and_credentials_are_masked() -> None:
    try:
        fail()
    except RuntimeError:
        import sys

        made = record("store down: http://billing:pw@clickhouse:8123/")
        made.exc_info = sys.exc_info()
    data = orjson.loads(JsonFormatter().format(made))
    assert data["message"] == "store down: http://***@clickhouse:8123/"
    assert "pw" not in data["exception"]
    assert "RuntimeError" in data["exception"]
    assert redact("chdb:///tmp/x") == "chdb:///tmp/x"


def test_logging_config_writes_json_lines() -> None:
    config = logging_config("INFO")
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        logging.getLogger("billing.test").info("hello", extra={"context": {"topic": "t"}})
        logging.getLogger("billing.test").debug("not shown")
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        logging.root.handlers.clear()
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [(d["message"], d["context"]) for d in lines] == [("hello", {"topic": "t"})]
