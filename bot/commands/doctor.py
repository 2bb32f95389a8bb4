"""`formabot doctor`: is this installation fit to run? One line per check, OK/WARN/FAIL/SKIP.

An operator runs it after installing, after changing the config or the secrets, and when the
bot misbehaves. Each problem says what is wrong and how to fix it; nothing is changed (the
database is only read). The exit code is 1 when any check failed, so a deploy script can stop.
Secrets are never printed: whatever a library says is cleaned of them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import click
import tzdata
from sqlite_utils import Database
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot import config as config_module
from bot.channels.whatsapp.http import WhatsAppHttpClient
from bot.channels.whatsapp.messages import INBOUND_PATH, STATUS_PATH
from bot.config import (
    TELEGRAM_TOKEN_ENV,
    TELEGRAM_WEBHOOK_SECRET_ENV,
    TWILIO_SID_ENV,
    TWILIO_TOKEN_ENV,
    Config,
    TelegramSettings,
    WhatsAppSettings,
)
from storage import db as storage_db
from storage.zones import zone

LEVELS = ("OK", "WARN", "FAIL", "SKIP")
MOROCCO = "Africa/Casablanca"
# Telegram posts webhooks only to these ports (Bot API, setWebhook).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# An environment without TWILIO_EDGE / TWILIO_REGION (see whatsapp/messages.py).
_NO_TWILIO_ENV = {"FORMABOT": "1"}
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True)
class Finding:
    """One check's verdict: `summary` says what was found, `fix` what to do about it."""

    level: str
    check: str
    summary: str
    fix: str = ""


@contextlib.asynccontextmanager
async def _quiet(*loggers: str) -> AsyncIterator[None]:
    """The libraries' own error logs (with tracebacks) held back: the finding says it all."""
    saved = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _redacted(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    return text


# --- config and channels ----------------------------------------------------------------

def check_config(path: Path | None) -> tuple[Finding, Config | None]:
    try:
        config = config_module.load(path)
    except config_module.ConfigError as error:
        return Finding("FAIL", "config", str(error),
                       "correct that key (see config.example.toml), then run doctor again"), None
    if config.path is None:
        return Finding("WARN", "config", "no config file: built-in defaults in use",
                       "pass --config /etc/formabot/config.toml (see config.example.toml)"), config
    return Finding("OK", "config", f"{config.path} is valid"), config


def check_channels(config: Config) -> list[Finding]:
    telegram, whatsapp = config.telegram, config.whatsapp
    if telegram.token or whatsapp.account_sid or whatsapp.auth_token:
        return []
    return [Finding("FAIL", "channels", "neither Telegram nor WhatsApp is configured",
                    f"set {TELEGRAM_TOKEN_ENV}, or {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV},"
                    " in the service's environment file (/etc/formabot/env)")]


# --- Telegram -----------------------------------------------------------------------------

async def check_telegram(settings: TelegramSettings, timeout: float) -> list[Finding]:
    if not settings.token:
        return [Finding("SKIP", "telegram", f"not configured ({TELEGRAM_TOKEN_ENV} is not set)")]
    findings = [await _get_me(settings, timeout)]
    if settings.mode == "webhook" and not settings.webhook_secret:
        findings.append(Finding(
            "FAIL", "telegram", f"webhook mode without {TELEGRAM_WEBHOOK_SECRET_ENV}",
            f"set {TELEGRAM_WEBHOOK_SECRET_ENV} to a random secret (1-256 characters among"
            " A-Z, a-z, 0-9, _ and -)"))
    return findings


async def _get_me(settings: TelegramSettings, timeout: float) -> Finding:
    """getMe through `[telegram] base_url`, as `run` does at start."""
    def request() -> HTTPXRequest:
        return HTTPXRequest(connection_pool_size=1, connect_timeout=timeout,
                            read_timeout=timeout, write_timeout=timeout, pool_timeout=timeout)

    where = f"[telegram] base_url = {settings.base_url}"
    bot = Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url,
              request=request(), get_updates_request=request())
    try:
        async with _quiet("telegram"), bot:
            return Finding("OK", "telegram", f"token accepted: bot @{bot.username}"
                           f" ({settings.mode})")
    except InvalidToken:
        fix = ("copy the token again from @BotFather (/mybots, API Token) into the environment"
               " file, then restart the service")
        if settings.base_url != TelegramSettings.base_url:
            fix += f"; or correct {where}: any server but a Bot API answers 404 too"
        return Finding("FAIL", "telegram", f"Telegram refused the token in {TELEGRAM_TOKEN_ENV}",
                       fix)
    except TimedOut:
        return Finding("FAIL", "telegram", f"no answer from Telegram within {timeout:g} s"
                       f" ({where})", "check the server's network and firewall (outgoing"
                       " HTTPS), or try again with a longer --timeout")
    except NetworkError as error:
        said = _redacted(error.message, settings.token)
        return Finding("FAIL", "telegram", f"cannot reach Telegram ({said}; {where})",
                       "check the server's network, DNS and firewall (outgoing HTTPS), and"
                       " [telegram] base_url")
    except TelegramError as error:
        said = _redacted(error.message, settings.token)
        return Finding("FAIL", "telegram", f"Telegram answered getMe with an error: {said}",
                       "check [telegram] base_url and the token")


def check_telegram_webhook(settings: TelegramSettings) -> list[Finding]:
    if not settings.token:
        return []
    if settings.mode != "webhook":
        return [Finding("OK", "telegram webhook", "not used: long polling needs no public URL")]
    problems, fixes = _url_problems(settings.webhook_url, "[telegram] webhook_url")
    parts = urlsplit(settings.webhook_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if port not in TELEGRAM_WEBHOOK_PORTS:
        problems.append(f"port {port} is not one Telegram posts to")
        fixes.append("use port 443, 80, 88 or 8443")
    if problems:
        return [Finding("FAIL", "telegram webhook", f"{settings.webhook_url}: "
                        + "; ".join(problems), "; ".join(fixes))]
    url_path = parts.path or "/"
    if settings.webhook_route != url_path:
        return [Finding("WARN", "telegram webhook",
                        f"Telegram posts to {url_path} but formabot serves"
                        f" {settings.webhook_route}",
                        f"make the reverse proxy pass {url_path} to"
                        f" http://127.0.0.1:<port>{settings.webhook_route}")]
    return [Finding("OK", "telegram webhook", f"{settings.webhook_url} (served at"
                    f" {settings.webhook_route})")]


# --- WhatsApp -----------------------------------------------------------------------------

async def check_whatsapp(settings: WhatsAppSettings, timeout: float) -> list[Finding]:
    if not (settings.account_sid or settings.auth_token):
        return [Finding("SKIP", "whatsapp",
                        f"not configured ({TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} are not set)")]
    missing = [name for name, value in ((TWILIO_SID_ENV, settings.account_sid),
                                        (TWILIO_TOKEN_ENV, settings.auth_token)) if not value]
    if missing:
        return [Finding("FAIL", "whatsapp", f"{missing[0]} is not set",
                        f"set both {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} (Twilio console,"
                        " Account Info)")]
    if not _ACCOUNT_SID.match(settings.account_sid):
        return [Finding("FAIL", "whatsapp", f"{TWILIO_SID_ENV} is not an Account SID",
                        "use the Account SID (\"AC\" and 32 hex digits) from the Twilio"
                        " console, not an API key SID (\"SK…\")")]
    findings = [await _fetch_account(settings, timeout)]
    if not (settings.from_ or settings.messaging_service_sid):
        findings.append(Finding("FAIL", "whatsapp", "no sender configured",
                                "set [whatsapp] from = \"whatsapp:+212…\" or"
                                " messaging_service_sid"))
    return findings


async def _fetch_account(settings: WhatsAppSettings, timeout: float) -> Finding:
    """GET the Account resource through `[whatsapp] api_base_url`, with the SDK that sends."""
    http = WhatsAppHttpClient(settings.api_base_url, timeout=timeout, connections=1)
    where = f"[whatsapp] api_base_url = {settings.api_base_url}"
    secrets = (settings.account_sid, settings.auth_token)
    try:
        client = Client(settings.account_sid, settings.auth_token, http_client=http,
                        environment=_NO_TWILIO_ENV)
        client.edge = client.region = None
        account = await client.api.v2010.accounts(settings.account_sid).fetch_async()
    except TwilioRestException as error:
        said = _redacted(f"HTTP {error.status}, error {error.code}: {error.msg}", *secrets)
        if error.status in (401, 403):
            fix = (f"copy {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} again from the Twilio"
                   " console (Account Info); a rotated auth token invalidates the old one")
            return Finding("FAIL", "whatsapp", f"Twilio refused the credentials ({said})", fix)
        if error.status == 404:
            return Finding("FAIL", "whatsapp", f"Twilio knows no such account ({said})",
                           f"check {TWILIO_SID_ENV} and {where}")
        return Finding("FAIL", "whatsapp", f"Twilio answered with an error ({said})",
                       "try again later; see status.twilio.com if it lasts")
    except TimeoutError:
        return Finding("FAIL", "whatsapp", f"no answer from Twilio within {timeout:g} s"
                       f" ({where})", "check the server's network and firewall (outgoing"
                       " HTTPS), or try again with a longer --timeout")
    except (aiohttp.ClientError, OSError) as error:
        said = _redacted(f"{type(error).__name__}: {error}", *secrets)
        return Finding("FAIL", "whatsapp", f"cannot reach Twilio ({said}; {where})",
                       "check the server's network, DNS and firewall (outgoing HTTPS), and"
                       " [whatsapp] api_base_url")
    finally:
        await http.close()
    name = f"account {account.friendly_name!r}, {account.type or 'unknown type'}"
    if account.status != "active":
        return Finding("FAIL", "whatsapp", f"{name} is {account.status}",
                       "reactivate the account in the Twilio console (Billing) before"
                       " sending")
    if account.type == "Trial":
        return Finding("WARN", "whatsapp", f"{name}: credentials accepted, but a trial account"
                       " sends only to verified numbers", "upgrade the Twilio account")
    return Finding("OK", "whatsapp", f"{name}, active: credentials accepted")


def check_whatsapp_url(settings: WhatsAppSettings) -> list[Finding]:
    if not settings.enabled:
        return []
    if not settings.public_url:
        return [Finding("FAIL", "whatsapp url", "[whatsapp] public_url is not set",
                        "set it to the public https URL Twilio calls, e.g."
                        " \"https://bot.example.org\"; webhooks go to"
                        f" <public_url>{INBOUND_PATH} and {STATUS_PATH}")]
    problems, fixes = _url_problems(settings.public_url, "[whatsapp] public_url")
    path = urlsplit(settings.public_url).path.rstrip("/")
    if path.endswith(("/whatsapp", INBOUND_PATH, STATUS_PATH)):
        problems.append("it names a webhook, not the site")
        fixes.append(f"give only the site's URL; formabot adds {INBOUND_PATH} and"
                     f" {STATUS_PATH} itself")
    if problems:
        return [Finding("FAIL", "whatsapp url", f"{settings.public_url}: " + "; ".join(problems),
                        "; ".join(fixes))]
    inbound = f"{settings.public_url.rstrip('/')}{INBOUND_PATH}"
    if path:
        return [Finding("WARN", "whatsapp url", f"{settings.public_url} has a path prefix"
                        f" ({path}); formabot serves {INBOUND_PATH} without it",
                        f"make the reverse proxy strip {path} before passing"
                        f" {path}/whatsapp/ on; set Twilio's webhook to {inbound}")]
    return [Finding("OK", "whatsapp url", f"Twilio's webhook: {inbound}, status callbacks:"
                    f" {settings.public_url.rstrip('/')}{STATUS_PATH}")]


def _url_problems(url: str, key: str) -> tuple[list[str], list[str]]:
    """What stops a platform from calling `url`, and the fixes, for URLs people enter."""
    parts = urlsplit(url)
    problems, fixes = [], []
    if parts.scheme != "https":
        problems.append("not https")
        fixes.append(f"serve it over TLS (see deploy/nginx-formabot.conf) and write {key}"
                     " with https://")
    if parts.query or parts.fragment:
        problems.append("it has a query or fragment")
        fixes.append("remove everything from '?' or '#'")
    if (parts.hostname or "") in _LOCAL_HOSTS:
        problems.append("a local address, unreachable from the internet")
        fixes.append("use the server's public host name")
    return problems, fixes


# --- the database -------------------------------------------------------------------------

def check_database(path: Path) -> list[Finding]:
    """Integrity and migrations, reading only. A missing file is not created here."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        return [Finding("FAIL", "database", f"directory {directory} does not exist",
                        f"create it, owned by the service user: install -d -o formabot"
                        f" {directory}")]
    if not path.exists():
        return [Finding("WARN", "database", f"{path} does not exist yet",
                        "`formabot db migrate` creates it (so does `formabot run`)")]
    findings = []
    if not (os.access(path, os.W_OK) and os.access(directory, os.W_OK)):
        findings.append(Finding("FAIL", "database", f"{path} or its directory is not writable"
                                " by this user", "give the service user write access to both"
                                " (SQLite writes -wal and -shm files beside the database)"))
    try:
        findings.extend(_inspect(path))
    except sqlite3.DatabaseError as error:
        findings.append(Finding("FAIL", "database", f"{path}: {error}",
                                "is it a formabot database? If it is, stop the bot and restore"
                                " the last backup"))
    return findings


def _inspect(path: Path) -> list[Finding]:
    connection = sqlite3.connect(str(path), timeout=storage_db.BUSY_TIMEOUT_MS / 1000)
    try:
        db = Database(connection)
        problems = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            return [Finding("FAIL", "database", f"{path} is damaged: {shown}",
                            "stop the bot, keep a copy of the damaged file, restore the last"
                            " backup (cp it over the database), then start the bot")]
        applied = storage_db.applied_migrations(db)
        pending = storage_db.pending_migrations(db)
    finally:
        connection.close()
    known = set(storage_db.pending_migrations(Database(memory=True)))
    unknown = [name for name in applied if name not in known]
    if unknown:
        return [Finding("FAIL", "database", f"{path} was upgraded by a newer formabot"
                        f" (unknown migrations: {', '.join(unknown)})",
                        "install that newer formabot again, or restore a backup made before"
                        " the upgrade")]
    if pending:
        return [Finding("WARN", "database", f"{path}: integrity ok, {len(pending)} migration(s)"
                        f" pending: {', '.join(pending)}",
                        "back it up, then run `formabot db migrate` (`formabot run` applies"
                        " them too)")]
    size = path.stat().st_size / 1_000_000
    return [Finding("OK", "database", f"{path}: integrity ok, {len(applied)} migrations"
                    f" applied, {size:.1f} MB")]


# --- time zones ---------------------------------------------------------------------------

def check_morocco(moroccan_zone: tzinfo | None = None,
                  version: str = tzdata.IANA_VERSION) -> Finding:
    """Africa/Casablanca as the tzdata package has it: UTC+01 with UTC+00 during Ramadan
    until 2026-09-20, then UTC+00 all year (the 2026 change; older data keeps +01)."""
    local = moroccan_zone if moroccan_zone is not None else zone(MOROCCO)
    expected = {datetime(2026, 3, 1, 12): 0,   # Ramadan 2026 (~Feb 18 – Mar 19): UTC+00
                datetime(2026, 6, 15, 12): 1,  # before the change: UTC+01
                datetime(2027, 7, 1, 12): 0}   # after 2026-09-20: UTC+00 all year
    found = {moment: _offset_hours(moment, local) for moment in expected}
    wrong = [f"{moment:%Y-%m-%d} is UTC{found[moment]:+03d}, expected"
             f" UTC{expected[moment]:+03d}" for moment in expected
             if found[moment] != expected[moment]]
    if wrong:
        return Finding("FAIL", "tzdata", f"tzdata {version}: {MOROCCO} has the wrong rule ("
                       + "; ".join(wrong) + ")",
                       "upgrade the tzdata package in formabot's venv (pip install -U"
                       " tzdata), then restart the service")
    return Finding("OK", "tzdata", f"tzdata {version}: {MOROCCO} has Morocco's 2026 rule"
                   " (UTC+00 in Ramadan, UTC+00 all year from 2026-09-20)")


def _offset_hours(moment: datetime, local: tzinfo) -> int:
    offset = moment.replace(tzinfo=local).utcoffset()
    return round(offset.total_seconds() / 3600) if offset is not None else 0


# --- the command --------------------------------------------------------------------------

async def _network_checks(config: Config, timeout: float) -> list[Finding]:
    telegram, whatsapp = await asyncio.gather(check_telegram(config.telegram, timeout),
                                              check_whatsapp(config.whatsapp, timeout))
    return [*telegram, *check_telegram_webhook(config.telegram),
            *whatsapp, *check_whatsapp_url(config.whatsapp)]


def diagnose(config_path: Path | None, *, timeout: float) -> list[Finding]:
    finding, config = check_config(config_path)
    findings = [finding]
    if config is not None:
        findings += check_channels(config)
        findings += asyncio.run(_network_checks(config, timeout))
        findings += check_database(config.bot.database)
    else:
        findings.append(Finding("SKIP", "channels", "not checked: the configuration is invalid"))
    findings.append(check_morocco())
    return findings


def render(findings: list[Finding]) -> list[str]:
    """Plain lines, readable without colour: level, check, what; the fix indented below."""
    width = max(len(finding.check) for finding in findings)
    lines = []
    for finding in findings:
        lines.append(f"{finding.level:<4}  {finding.check:<{width}}  {finding.summary}")
        if finding.fix and finding.level in ("WARN", "FAIL"):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {finding.fix}")
    counts = Counter(finding.level for finding in findings)
    lines.append(", ".join(f"{counts[level]} {level}" for level in LEVELS if counts[level]))
    return lines


@click.command()
@click.option("--timeout", type=click.FloatRange(min=0.5, max=120), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for Telegram and Twilio.")
@click.pass_obj
def doctor(state, timeout: float) -> None:
    """Check the configuration, the Telegram and Twilio credentials, the public URLs, the
    database and the time zone data; exit 1 when something must be fixed."""
    findings = diagnose(state.config_path, timeout=timeout)
    for line in render(findings):
        click.echo(line)
    if any(finding.level == "FAIL" for finding in findings):
        click.get_current_context().exit(1)


commands = [doctor]
