"""The public URLs the platforms call (Telegram's webhook, Twilio's webhooks) can be reached
from the internet and lead to the routes formabot serves."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.channels.whatsapp.messages import INBOUND_PATH, STATUS_PATH
from bot.config import TelegramSettings, WhatsAppSettings
from bot.ops.doctor.findings import Finding

# Telegram posts webhooks only to these ports (Bot API, setWebhook).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


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
        return [
            Finding(
                "FAIL",
                "telegram webhook",
                f"{settings.webhook_url}: " + "; ".join(problems),
                "; ".join(fixes),
            )
        ]
    url_path = parts.path or "/"
    if settings.webhook_route != url_path:
        return [
            Finding(
                "WARN",
                "telegram webhook",
                f"Telegram posts to {url_path} but formabot serves {settings.webhook_route}",
                f"make the reverse proxy pass {url_path} to"
                f" http://127.0.0.1:<port>{settings.webhook_route}",
            )
        ]
    return [
        Finding(
            "OK", "telegram webhook", f"{settings.webhook_url} (served at {settings.webhook_route})"
        )
    ]


def check_whatsapp_url(settings: WhatsAppSettings) -> list[Finding]:
    if not settings.enabled:
        return []
    if not settings.public_url:
        return [
            Finding(
                "FAIL",
                "whatsapp url",
                "[whatsapp] public_url is not set",
                "set it to the public https URL Twilio calls, e.g."
                ' "https://bot.example.org"; webhooks go to'
                f" <public_url>{INBOUND_PATH} and {STATUS_PATH}",
            )
        ]
    problems, fixes = _url_problems(settings.public_url, "[whatsapp] public_url")
    path = urlsplit(settings.public_url).path.rstrip("/")
    if path.endswith(("/whatsapp", INBOUND_PATH, STATUS_PATH)):
        problems.append("it names a webhook, not the site")
        fixes.append(
            f"give only the site's URL; formabot adds {INBOUND_PATH} and {STATUS_PATH} itself"
        )
    if problems:
        return [
            Finding(
                "FAIL",
                "whatsapp url",
                f"{settings.public_url}: " + "; ".join(problems),
                "; ".join(fixes),
            )
        ]
    inbound = f"{settings.public_url.rstrip('/')}{INBOUND_PATH}"
    if path:
        return [
            Finding(
                "WARN",
                "whatsapp url",
                f"{settings.public_url} has a path prefix"
                f" ({path}); formabot serves {INBOUND_PATH} without it",
                f"make the reverse proxy strip {path} before passing"
                f" {path}/whatsapp/ on; set Twilio's webhook to {inbound}",
            )
        ]
    return [
        Finding(
            "OK",
            "whatsapp url",
            f"Twilio's webhook: {inbound}, status callbacks:"
            f" {settings.public_url.rstrip('/')}{STATUS_PATH}",
        )
    ]


def _url_problems(url: str, key: str) -> tuple[list[str], list[str]]:
    """What stops a platform from calling `url`, and the fixes, for URLs people enter."""
    parts = urlsplit(url)
    problems, fixes = [], []
    if parts.scheme != "https":
        problems.append("not https")
        fixes.append(
            f"serve it over TLS (see deploy/nginx-formabot.conf) and write {key} with https://"
        )
    if parts.query or parts.fragment:
        problems.append("it has a query or fragment")
        fixes.append("remove everything from '?' or '#'")
    if (parts.hostname or "") in _LOCAL_HOSTS:
        problems.append("a local address, unreachable from the internet")
        fixes.append("use the server's public host name")
    return problems, fixes
