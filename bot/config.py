"""`config.toml`, validated at start; secrets only from the environment.

Every problem is reported as one line naming the key, the value found and what is expected,
so that an operator can fix the file without reading code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.zones import UnknownZone, zone

DEFAULT_PATH = Path("config.toml")
LANGUAGES = ("fr", "ar", "en")

TELEGRAM_TOKEN_ENV = "FORMABOT_TELEGRAM_TOKEN"
TWILIO_SID_ENV = "FORMABOT_TWILIO_ACCOUNT_SID"
TWILIO_TOKEN_ENV = "FORMABOT_TWILIO_AUTH_TOKEN"


class ConfigError(Exception):
    """A configuration problem, worded for the operator."""


@dataclass(frozen=True)
class BotSettings:
    database: Path = Path("formabot.db")
    timezone: str = "Africa/Casablanca"
    default_language: str = "fr"
    page_size: int = 5


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"
    webhook_url: str = ""
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class WhatsAppSettings:
    api_base_url: str = "https://api.twilio.com"
    account_sid: str = field(default="", repr=False)
    auth_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class Config:
    path: Path | None
    bot: BotSettings = field(default_factory=BotSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    web: WebSettings = field(default_factory=WebSettings)


# --- validation helpers -------------------------------------------------------------------

def _where(section: str, key: str, value: Any, expected: str, source: Path | None) -> ConfigError:
    origin = f"{source}: " if source else ""
    return ConfigError(f"{origin}[{section}] {key} = {value!r}: expected {expected}")


Check = Callable[[Any], bool]


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        zone(value)
    except UnknownZone:
        return False
    return True


def _int_between(low: int, high: int) -> Check:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and (
        low <= value <= high
    )


def _one_of(*options: str) -> Check:
    return lambda value: value in options


SCHEMA: dict[str, dict[str, tuple[str, Check]]] = {
    "bot": {
        "database": ("a file path as text, e.g. \"formabot.db\"", _is_text),
        "timezone": ("an IANA time zone such as \"Africa/Casablanca\"", _is_zone),
        "default_language": ("one of \"fr\", \"ar\", \"en\"", _one_of(*LANGUAGES)),
        "page_size": ("a whole number from 1 to 10", _int_between(1, 10)),
    },
    "telegram": {
        "base_url": ("an http(s) URL such as \"https://api.telegram.org/bot\"", _is_url),
        "base_file_url": (
            "an http(s) URL such as \"https://api.telegram.org/file/bot\"", _is_url
        ),
        "mode": ("\"polling\" or \"webhook\"", _one_of("polling", "webhook")),
        "webhook_url": ("an https URL that Telegram can reach", _is_url),
    },
    "whatsapp": {
        "api_base_url": ("an http(s) URL such as \"https://api.twilio.com\"", _is_url),
    },
    "web": {
        "host": ("an address to listen on, e.g. \"127.0.0.1\"", _is_text),
        "port": ("a port number from 1 to 65535", _int_between(1, 65535)),
    },
}

_SECRET_KEYS = {"token", "auth_token", "account_sid", "secret_token"}


def _validated(raw: Mapping[str, Any], source: Path | None) -> dict[str, dict[str, Any]]:
    origin = f"{source}: " if source else ""
    values: dict[str, dict[str, Any]] = {}
    for section, table in raw.items():
        if section not in SCHEMA:
            raise ConfigError(
                f"{origin}[{section}]: unknown section; expected one of "
                + ", ".join(f"[{name}]" for name in SCHEMA)
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}{section} = {table!r}: expected a [{section}] table")
        values[section] = {}
        for key, value in table.items():
            if key in _SECRET_KEYS:
                raise ConfigError(
                    f"{origin}[{section}] {key}: secrets are not read from the file; set the"
                    " environment variable instead (see config.example.toml)"
                )
            if key not in SCHEMA[section]:
                raise ConfigError(
                    f"{origin}[{section}] {key}: unknown key; expected one of "
                    + ", ".join(SCHEMA[section])
                )
            expected, check = SCHEMA[section][key]
            if not check(value):
                raise _where(section, key, value, expected, source)
            values[section][key] = value
    return values


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (or `./config.toml` when present, else built-in defaults) and the environment."""
    environ = os.environ if environ is None else environ
    source: Path | None
    if path is not None:
        if not path.exists():
            raise ConfigError(f"{path}: no such configuration file")
        source = path
    else:
        source = DEFAULT_PATH if DEFAULT_PATH.exists() else None
    raw: dict[str, Any] = {}
    if source is not None:
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{source}: not valid TOML ({error})") from error
        except UnicodeDecodeError as error:
            raise ConfigError(f"{source}: not UTF-8 text ({error.reason})") from error
    values = _validated(raw, source)
    bot = values.get("bot", {})
    if "database" in bot:
        database = Path(bot["database"])
        if source is not None and not database.is_absolute():
            database = source.parent / database
        bot["database"] = database
    return Config(
        path=source,
        bot=BotSettings(**bot),
        telegram=TelegramSettings(**values.get("telegram", {}),
                                  token=environ.get(TELEGRAM_TOKEN_ENV, "").strip()),
        whatsapp=WhatsAppSettings(
            **values.get("whatsapp", {}),
            account_sid=environ.get(TWILIO_SID_ENV, "").strip(),
            auth_token=environ.get(TWILIO_TOKEN_ENV, "").strip(),
        ),
        web=WebSettings(**values.get("web", {})),
    )
