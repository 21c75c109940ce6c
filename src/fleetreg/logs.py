"""Logs on stderr: one JSON object per line (for machines), or readable lines on a terminal
(``FLEETREG_LOG_FORMAT``), with the request id where there is one."""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

# Attributes every LogRecord has; anything else was passed in ``extra`` and goes into the line, except
# a server's colour-coded copy of the message (uvicorn's ``color_message``), which is noise in a file.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extra(record))
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``03:58:01.123 INFO  fleetreg.access  GET /v2/vehicles 200  request_id=... duration_ms=3.1``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S.%f")[:-3]
        fields = " ".join(f"{key}={value}" for key, value in _extra(record).items())
        line = f"{moment} {record.levelname:<7} {record.name}  {record.getMessage()}" + (
            f"  {fields}" if fields else ""
        )
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


def formatter_for(log_format: str) -> str:
    """The formatter class (its dotted name) that ``log_format`` (auto, json, text) means here."""
    text = log_format == "text" or (log_format == "auto" and sys.stderr.isatty())
    return "fleetreg.logs.TextFormatter" if text else "fleetreg.logs.JsonFormatter"


def configure_logging(level: str, log_format: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if formatter_for(log_format).endswith("TextFormatter") else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def server_log_config(level: str, log_format: str = "json") -> dict[str, Any]:
    """Granian's dictConfig: its loggers hand their records to our JSON root handler, and its access
    log stays off (fleetreg's own line names the request id)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": formatter_for(log_format)}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
        },
    }
