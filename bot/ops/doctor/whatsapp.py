"""Twilio accepts the credentials (the Account resource fetched through `[whatsapp]
api_base_url`, with the SDK that sends), the account may send, and a sender is configured."""

from __future__ import annotations

import re

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.rest.api.v2010.account import AccountInstance

from bot.channels.whatsapp.http import WhatsAppHttpClient
from bot.config import TWILIO_SID_ENV, TWILIO_TOKEN_ENV, WhatsAppSettings
from bot.ops.doctor.findings import Finding, redacted

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# An environment without TWILIO_EDGE / TWILIO_REGION (see whatsapp/messages.py).
_NO_TWILIO_ENV = {"FORMABOT": "1"}


async def check_whatsapp(settings: WhatsAppSettings, timeout: float) -> list[Finding]:
    if not (settings.account_sid or settings.auth_token):
        return [
            Finding(
                "SKIP",
                "whatsapp",
                f"not configured ({TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} are not set)",
            )
        ]
    missing = [
        name
        for name, value in (
            (TWILIO_SID_ENV, settings.account_sid),
            (TWILIO_TOKEN_ENV, settings.auth_token),
        )
        if not value
    ]
    if missing:
        return [
            Finding(
                "FAIL",
                "whatsapp",
                f"{missing[0]} is not set",
                f"set both {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} (Twilio console, Account Info)",
            )
        ]
    if not _ACCOUNT_SID.match(settings.account_sid):
        return [
            Finding(
                "FAIL",
                "whatsapp",
                f"{TWILIO_SID_ENV} is not an Account SID",
                'use the Account SID ("AC" and 32 hex digits) from the Twilio'
                ' console, not an API key SID ("SK…")',
            )
        ]
    account = await _account(settings, timeout)
    findings = [account if isinstance(account, Finding) else _account_verdict(account)]
    if not (settings.from_ or settings.messaging_service_sid):
        findings.append(
            Finding(
                "FAIL",
                "whatsapp",
                "no sender configured",
                'set [whatsapp] from = "whatsapp:+212…" or messaging_service_sid',
            )
        )
    return findings


async def _account(settings: WhatsAppSettings, timeout: float) -> Finding | AccountInstance:
    """The Account resource, or the finding that says why Twilio could not be asked."""
    http = WhatsAppHttpClient(settings.api_base_url, timeout=timeout, connections=1)
    where = f"[whatsapp] api_base_url = {settings.api_base_url}"
    secrets = (settings.account_sid, settings.auth_token)
    try:
        client = Client(
            settings.account_sid, settings.auth_token, http_client=http, environment=_NO_TWILIO_ENV
        )
        client.edge = client.region = None
        return await client.api.v2010.accounts(settings.account_sid).fetch_async()
    except TwilioRestException as error:
        return _refusal(error, where, secrets)
    except TimeoutError:
        return Finding(
            "FAIL",
            "whatsapp",
            f"no answer from Twilio within {timeout:g} s ({where})",
            "check the server's network and firewall (outgoing"
            " HTTPS), or try again with a longer --timeout",
        )
    except (aiohttp.ClientError, OSError) as error:
        said = redacted(f"{type(error).__name__}: {error}", *secrets)
        return Finding(
            "FAIL",
            "whatsapp",
            f"cannot reach Twilio ({said}; {where})",
            "check the server's network, DNS and firewall (outgoing HTTPS), and"
            " [whatsapp] api_base_url",
        )
    finally:
        await http.close()


def _refusal(error: TwilioRestException, where: str, secrets: tuple[str, str]) -> Finding:
    """Twilio answered with an error: wrong credentials, no such account, or its own trouble."""
    said = redacted(f"HTTP {error.status}, error {error.code}: {error.msg}", *secrets)
    if error.status in (401, 403):
        fix = (
            f"copy {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} again from the Twilio"
            " console (Account Info); a rotated auth token invalidates the old one"
        )
        return Finding("FAIL", "whatsapp", f"Twilio refused the credentials ({said})", fix)
    if error.status == 404:
        return Finding(
            "FAIL",
            "whatsapp",
            f"Twilio knows no such account ({said})",
            f"check {TWILIO_SID_ENV} and {where}",
        )
    return Finding(
        "FAIL",
        "whatsapp",
        f"Twilio answered with an error ({said})",
        "try again later; see status.twilio.com if it lasts",
    )


def _account_verdict(account: AccountInstance) -> Finding:
    """Credentials accepted; can the account send (not suspended, not a trial)?"""
    name = f"account {account.friendly_name!r}, {account.type or 'unknown type'}"
    if account.status != "active":
        return Finding(
            "FAIL",
            "whatsapp",
            f"{name} is {account.status}",
            "reactivate the account in the Twilio console (Billing) before sending",
        )
    if account.type == "Trial":
        return Finding(
            "WARN",
            "whatsapp",
            f"{name}: credentials accepted, but a trial account sends only to verified numbers",
            "upgrade the Twilio account",
        )
    return Finding("OK", "whatsapp", f"{name}, active: credentials accepted")
