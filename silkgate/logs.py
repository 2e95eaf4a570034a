"""Structured logs: one JSON object per line (or plain text for a terminal).

Log records carry metadata only (ids, parties, counts, routes, status codes), never record
contents. Fields passed as ``extra={"fields": {...}}`` are merged into the JSON object.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["json", "text"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(fmt: LogFormat = "json", level: str = "info") -> dict[str, Any]:
    """A logging.config.dictConfig for silkgate and uvicorn alike (pass it to uvicorn.run)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Our own request log replaces uvicorn's access log (it has the route template).
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def fields(**values: Any) -> dict[str, Any]:
    """``log.info("...", extra=fields(batch_id=..., records=...))``"""
    return {"fields": values}
