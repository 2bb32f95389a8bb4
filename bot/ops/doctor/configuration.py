"""The config file loads, and which channels have their credentials."""

from __future__ import annotations

from pathlib import Path

from bot import config as config_module
from bot.config import TELEGRAM_TOKEN_ENV, TWILIO_SID_ENV, TWILIO_TOKEN_ENV, Config
from bot.ops.doctor.findings import Finding


def check_config(path: Path | None) -> tuple[Finding, Config | None]:
    """The verdict on the file, and the config when it loaded (the other checks need it)."""
    try:
        config = config_module.load(path)
    except config_module.ConfigError as error:
        return Finding(
            "FAIL",
            "config",
            str(error),
            "correct that key (see config.example.toml), then run doctor again",
        ), None
    if config.path is None:
        return Finding(
            "WARN",
            "config",
            "no config file: built-in defaults in use",
            "pass --config /etc/formabot/config.toml (see config.example.toml)",
        ), config
    return Finding("OK", "config", f"{config.path} is valid"), config


def check_channels(config: Config) -> list[Finding]:
    telegram, whatsapp = config.telegram, config.whatsapp
    if telegram.token or whatsapp.account_sid or whatsapp.auth_token:
        return []
    # Not an error: `formabot run` then serves the console (a trial, a demo) and the web app.
    return [
        Finding(
            "WARN",
            "channels",
            "neither Telegram nor WhatsApp is configured: `formabot run` serves the console only",
            f"to reach people, set {TELEGRAM_TOKEN_ENV}, or {TWILIO_SID_ENV} and"
            f" {TWILIO_TOKEN_ENV}, in the service's environment file"
            " (/etc/formabot/env)",
        )
    ]
