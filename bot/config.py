"""`config.toml`, validated at start; secrets only from the environment.

Every problem is reported as one line naming the key, the value found and what is expected,
so that an operator can fix the file without reading code.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.durations import is_duration, is_durations, is_span, parse_duration
from bot.oneline import one_line
from storage.announcements import KINDS
from storage.contacts import LANGUAGES
from storage.zones import UnknownZone, zone

DEFAULT_PATH = Path("config.toml")

TELEGRAM_TOKEN_ENV = "FORMABOT_TELEGRAM_TOKEN"
TELEGRAM_WEBHOOK_SECRET_ENV = "FORMABOT_TELEGRAM_WEBHOOK_SECRET"
TWILIO_SID_ENV = "FORMABOT_TWILIO_ACCOUNT_SID"
TWILIO_TOKEN_ENV = "FORMABOT_TWILIO_AUTH_TOKEN"


class ConfigError(Exception):
    """A configuration problem, worded for the operator on one line: a line break or other
    control character in a key or section named in it is shown escaped (`\\n`)."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


@dataclass(frozen=True)
class BotSettings:
    database: Path = Path("formabot.db")
    timezone: str = "Africa/Casablanca"
    default_language: str = "fr"
    page_size: int = 5
    quiet_hours: str = "21:00-08:00"


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"
    webhook_url: str = ""
    webhook_path: str = ""
    token: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    rate_limit_per_second: float = 30.0
    per_chat_per_second: float = 1.0

    @property
    def webhook_route(self) -> str:
        """The path our web app serves updates on: `webhook_path`, else the path of
        `webhook_url` (a reverse proxy usually passes it through unchanged)."""
        if self.webhook_path:
            return self.webhook_path
        return urlsplit(self.webhook_url).path or "/"


@dataclass(frozen=True)
class WhatsAppSettings:
    api_base_url: str = "https://api.twilio.com"
    account_sid: str = field(default="", repr=False)
    auth_token: str = field(default="", repr=False)
    rate_limit_per_second: float = 80.0
    from_: str = ""  # `from` in the file: "whatsapp:+212…"
    messaging_service_sid: str = ""
    public_url: str = ""
    media_base_url: str = ""
    timeout_seconds: float = 10.0
    # kind → language → ContentSid of an approved template ([whatsapp.templates.<kind>]).
    templates: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Seconds a client has to send a request's headers, then its body (`bot.web.app`).
    read_timeout: float = 10.0


@dataclass(frozen=True)
class RemindersSettings:
    offsets: tuple[str, ...] = ("7d", "1d", "2h")
    confirm_at: str = "1d"

    def timedeltas(self) -> dict[str, timedelta]:
        """Offset key → duration before the start; the confirm request is one of them."""
        keys = dict.fromkeys([*self.offsets, self.confirm_at])
        return {key: parse_duration(key) for key in keys}


@dataclass(frozen=True)
class SchedulerSettings:
    misfire_grace: str = "6h"


@dataclass(frozen=True)
class DispatcherSettings:
    concurrency: int = 16
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    request_timeout: float = 10.0


@dataclass(frozen=True)
class LogSettings:
    format: str = "text"  # "text": one readable line per event; "json": one JSON object


@dataclass(frozen=True)
class HealthSettings:
    max_due_age: str = "1h"
    max_silence: str = "10m"


@dataclass(frozen=True)
class BrandSettings:
    """Whom people read as the sender; empty, the texts say "the federation"."""

    name: str = ""  # e.g. "Formation FIMME"
    federation: str = ""  # e.g. "FIMME"
    school: str = ""  # e.g. "École FIMME"


@dataclass(frozen=True)
class Config:
    path: Path | None
    bot: BotSettings = field(default_factory=BotSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    web: WebSettings = field(default_factory=WebSettings)
    reminders: RemindersSettings = field(default_factory=RemindersSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    dispatcher: DispatcherSettings = field(default_factory=DispatcherSettings)
    log: LogSettings = field(default_factory=LogSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    brand: BrandSettings = field(default_factory=BrandSettings)

    @property
    def served_channels(self) -> tuple[str, ...]:
        """The channels this deployment serves: those whose credentials are set. Nothing is
        queued for another (a Telegram-only bot must not leave WhatsApp rows waiting)."""
        served = []
        if self.telegram.token:
            served.append("telegram")
        if self.whatsapp.enabled:
            served.append("whatsapp")
        return tuple(served)


# --- validation helpers -------------------------------------------------------------------


def _where(section: str, key: str, value: Any, expected: str, source: Path | None) -> ConfigError:
    origin = f"{source}: " if source else ""
    return ConfigError(f"{origin}[{section}] {key} = {value!r}: expected {expected}")


Check = Callable[[Any], bool]


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("/") and not value.startswith("//")


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        zone(value)
    except UnknownZone:
        return False
    return True


BRAND_MAX = 60


def _is_brand_name(value: Any) -> bool:
    """A name people read inside a sentence: one line of 1 to 60 characters, no control or
    direction-override characters (which would garble the sentences around it)."""
    return (
        isinstance(value, str)
        and value == value.strip()
        and 0 < len(value) <= BRAND_MAX
        and all(unicodedata.category(char)[0] != "C" for char in value)
    )


def _int_between(low: int, high: int) -> Check:
    return lambda value: (
        isinstance(value, int) and not isinstance(value, bool) and (low <= value <= high)
    )


def _rate(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 10_000


def _one_of(*options: str) -> Check:
    return lambda value: value in options


_WHATSAPP_SENDER = re.compile(r"^whatsapp:\+[1-9][0-9]{6,14}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
LOG_FORMATS = ("text", "json")
# Paths the web app serves itself (the Telegram webhook may not take them).
OWN_PATHS = ("/healthz", "/metrics", "/whatsapp")
# Every kind of notification may have its own WhatsApp templates.
TEMPLATE_KINDS = KINDS


def _is_whatsapp_sender(value: Any) -> bool:
    return isinstance(value, str) and bool(_WHATSAPP_SENDER.match(value))


SCHEMA: dict[str, dict[str, tuple[str, Check]]] = {
    "bot": {
        "database": ('a file path as text, e.g. "formabot.db"', _is_text),
        "timezone": ('an IANA time zone such as "Africa/Casablanca"', _is_zone),
        "default_language": ('one of "fr", "ar", "en"', _one_of(*LANGUAGES)),
        "page_size": ("a whole number from 1 to 10", _int_between(1, 10)),
        "quiet_hours": (
            'local "HH:MM-HH:MM", e.g. "21:00-08:00", or "" for none',
            lambda value: isinstance(value, str) and is_span(value),
        ),
    },
    "telegram": {
        "base_url": ('an http(s) URL such as "https://api.telegram.org/bot"', _is_url),
        "base_file_url": ('an http(s) URL such as "https://api.telegram.org/file/bot"', _is_url),
        "mode": ('"polling" or "webhook"', _one_of("polling", "webhook")),
        "webhook_url": ("an https URL that Telegram can reach", _is_url),
        "webhook_path": ('a URL path starting with "/", e.g. "/telegram"', _is_path),
        "rate_limit_per_second": ("messages a second, e.g. 30", _rate),
        "per_chat_per_second": ("messages a second to one chat, e.g. 1", _rate),
    },
    "whatsapp": {
        "api_base_url": ('an http(s) URL such as "https://api.twilio.com"', _is_url),
        "rate_limit_per_second": ("messages a second, e.g. 80", _rate),
        "from": ('a WhatsApp sender such as "whatsapp:+212522000000"', _is_whatsapp_sender),
        "messaging_service_sid": (
            'a Messaging Service SID: "MG" and 32 hex digits',
            lambda value: isinstance(value, str) and bool(_MESSAGING_SERVICE_SID.match(value)),
        ),
        "public_url": (
            'the public http(s) URL Twilio calls, e.g. "https://bot.example.org"',
            _is_url,
        ),
        "media_base_url": ("a public http(s) URL serving the .ics files", _is_url),
        "timeout_seconds": ("seconds, e.g. 10", _rate),
        "templates": (
            'tables [whatsapp.templates.<kind>] of language = "HX…"',
            lambda value: isinstance(value, dict),
        ),
    },
    "web": {
        "host": ('an address to listen on, e.g. "127.0.0.1"', _is_text),
        "port": ("a port number from 1 to 65535", _int_between(1, 65535)),
        "read_timeout": ("seconds, e.g. 10", _rate),
    },
    "reminders": {
        "offsets": ('a list of durations before the start, e.g. ["7d", "1d", "2h"]', is_durations),
        "confirm_at": ('a duration such as "1d"', is_duration),
    },
    "scheduler": {
        "misfire_grace": ('a duration such as "6h"', is_duration),
    },
    "dispatcher": {
        "concurrency": ("a whole number from 1 to 1000", _int_between(1, 1000)),
        "max_attempts": ("a whole number from 1 to 20", _int_between(1, 20)),
        "backoff_seconds": ("seconds, e.g. 2", _rate),
        "request_timeout": ("seconds, e.g. 10", _rate),
    },
    "log": {
        "format": (
            '"text" (one readable line per event) or "json" (one JSON object per line)',
            _one_of(*LOG_FORMATS),
        ),
    },
    "health": {
        "max_due_age": ('a duration such as "1h"', is_duration),
        "max_silence": ('a duration such as "10m"', is_duration),
    },
    "brand": {
        "name": (
            'the sender people read, one line of 1 to 60 characters, e.g. "Formation FIMME"',
            _is_brand_name,
        ),
        "federation": (
            'the federation\'s name, one line of 1 to 60 characters, e.g. "FIMME"',
            _is_brand_name,
        ),
        "school": (
            'the school\'s name, one line of 1 to 60 characters, e.g. "École FIMME"',
            _is_brand_name,
        ),
    },
}

_SECRET_KEYS = {"token", "auth_token", "account_sid", "secret_token", "webhook_secret"}
# What Telegram accepts as a webhook's secret_token.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


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


def _reminders(values: dict[str, Any]) -> RemindersSettings:
    """TOML gives a list; the settings keep the offsets as a tuple (frozen, hashable)."""
    settings = dict(values)
    if "offsets" in settings:
        settings["offsets"] = tuple(settings["offsets"])
    return RemindersSettings(**settings)


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
        telegram=_telegram(values.get("telegram", {}), environ, source),
        whatsapp=_whatsapp(values.get("whatsapp", {}), environ, source),
        web=WebSettings(**values.get("web", {})),
        reminders=_reminders(values.get("reminders", {})),
        scheduler=SchedulerSettings(**values.get("scheduler", {})),
        dispatcher=DispatcherSettings(**values.get("dispatcher", {})),
        log=LogSettings(**values.get("log", {})),
        health=HealthSettings(**values.get("health", {})),
        brand=BrandSettings(**values.get("brand", {})),
    )


def _telegram(
    values: dict[str, Any], environ: Mapping[str, str], source: Path | None
) -> TelegramSettings:
    """The [telegram] section with its secrets, checked as a whole (webhook mode needs a URL)."""
    origin = f"{source}: " if source else ""
    secret = environ.get(TELEGRAM_WEBHOOK_SECRET_ENV, "").strip()
    if secret and not _WEBHOOK_SECRET.match(secret):
        raise ConfigError(
            f"{TELEGRAM_WEBHOOK_SECRET_ENV}: expected 1 to 256 characters among A-Z, a-z, 0-9,"
            " _ and - (Telegram's rule for a webhook secret)"
        )
    if values.get("mode") == "webhook" and not values.get("webhook_url"):
        raise ConfigError(
            f"{origin}[telegram] mode = 'webhook': set [telegram] webhook_url to the https URL"
            " Telegram should call"
        )
    settings = TelegramSettings(
        **values,
        token=environ.get(TELEGRAM_TOKEN_ENV, "").strip(),
        webhook_secret=secret,
    )
    route = settings.webhook_route.rstrip("/")
    if settings.mode == "webhook" and (route in OWN_PATHS or route.startswith("/whatsapp/")):
        key = "webhook_path" if settings.webhook_path else "webhook_url"
        raise ConfigError(
            f"{origin}[telegram] {key}: the path {settings.webhook_route!r} is one of"
            ' formabot\'s own endpoints; choose another, e.g. "/telegram/<something random>"'
        )
    return settings


def _whatsapp(
    values: dict[str, Any], environ: Mapping[str, str], source: Path | None
) -> WhatsAppSettings:
    """The [whatsapp] section with its secrets; templates checked one by one, so that the
    error names the kind, the language and the SID that is wrong."""
    origin = f"{source}: " if source else ""
    settings = {key: value for key, value in values.items() if key not in ("from", "templates")}
    templates: dict[str, dict[str, str]] = {}
    for kind, table in values.get("templates", {}).items():
        where = f"{origin}[whatsapp.templates.{kind}]"
        if kind not in TEMPLATE_KINDS:
            raise ConfigError(
                f"{where}: unknown notification kind; expected one of " + ", ".join(TEMPLATE_KINDS)
            )
        if not isinstance(table, dict):
            raise ConfigError(f'{where} = {table!r}: expected a table of language = "HX…"')
        for language, sid in table.items():
            if language not in LANGUAGES:
                raise ConfigError(
                    f"{where} {language}: unknown language; expected one of " + ", ".join(LANGUAGES)
                )
            if not isinstance(sid, str) or not CONTENT_SID.match(sid):
                raise ConfigError(
                    f'{where} {language} = {sid!r}: expected a Content SID, "HX" and 32 hex digits'
                )
        templates[kind] = dict(table)
    return WhatsAppSettings(
        **settings,
        from_=values.get("from", ""),
        templates=templates,
        account_sid=environ.get(TWILIO_SID_ENV, "").strip(),
        auth_token=environ.get(TWILIO_TOKEN_ENV, "").strip(),
    )
