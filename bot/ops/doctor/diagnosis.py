"""Every check, in the order an operator reads them: the config first (the others need it),
then the channels over the network (side by side, so a slow one does not double the wait),
their public URLs, the database and the time zone data."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.config import Config
from bot.ops.doctor.configuration import check_channels, check_config
from bot.ops.doctor.database import check_database
from bot.ops.doctor.findings import Finding
from bot.ops.doctor.permissions import check_permissions
from bot.ops.doctor.telegram import check_telegram
from bot.ops.doctor.timezone import check_morocco
from bot.ops.doctor.urls import check_telegram_webhook, check_whatsapp_url
from bot.ops.doctor.whatsapp import check_whatsapp


def diagnose(config_path: Path | None, *, timeout: float) -> list[Finding]:
    """All findings; `timeout` bounds each wait for Telegram and Twilio."""
    finding, config = check_config(config_path)
    findings = [finding]
    if config is not None:
        findings += check_channels(config)
        findings += asyncio.run(_network_checks(config, timeout))
        findings += check_database(config.bot.database)
        findings += check_permissions(config.path, Path(config.bot.database))
    else:
        findings.append(Finding("SKIP", "channels", "not checked: the configuration is invalid"))
    findings.append(check_morocco())
    return findings


async def _network_checks(config: Config, timeout: float) -> list[Finding]:
    telegram, whatsapp = await asyncio.gather(
        check_telegram(config.telegram, timeout), check_whatsapp(config.whatsapp, timeout)
    )
    return [
        *telegram,
        *check_telegram_webhook(config.telegram),
        *whatsapp,
        *check_whatsapp_url(config.whatsapp),
    ]
