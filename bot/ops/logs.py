"""The bot's log lines: one per event, readable text by default, JSON for a log shipper
(`[log] format = "json"`).

Either way an event is one line: a newline or other control character in a message (text
someone typed, an error from a library) is escaped (`bot.oneline`), so a line can neither be
split nor forged, nor a terminal driven by escape codes. In text, a traceback
follows its line, indented; in JSON it is the `exception` field of the same object. Fields
passed with `extra=` (`channel`, `contact_id`, …) become JSON keys. What is logged names
contacts by id only, never by phone number or name: that is up to each log call.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.oneline import one_line

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What every LogRecord has; anything else on a record came from `extra=`.
# uvicorn adds `color_message`, the message with terminal colours: not for a log shipper.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
# Libraries that log request URLs (which carry the bot token) or whole payloads (which carry
# names and numbers) below WARNING.
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp", "twilio", "uvicorn.access")


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return "\n".join("    " + line for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    " + line for line in stack_info.splitlines())


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", extra fields…, "exception"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `[log] format`: "text" or "json"."""
    if kind == "json":
        return JsonFormatter()
    if kind == "text":
        return TextFormatter()
    raise ValueError(f'unknown log format {kind!r}: expected "text" or "json"')


def configure(kind: str = "text", *, verbose: bool = False) -> None:
    """Log to stderr in `kind`, at INFO (DEBUG when `verbose`). Like `logging.basicConfig`,
    leaves a root logger that already has a handler (an embedding program's, pytest's) as
    it is, but always keeps the chatty libraries quiet."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(kind))
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO if verbose else logging.WARNING)
