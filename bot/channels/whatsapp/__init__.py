"""WhatsApp through Twilio: the twilio SDK's async client out, signed webhooks in.

The composition root (`bot.app`) calls `build_whatsapp`, adds `whatsapp_routes(channel)` to
the web app, gives the outbox a `WhatsAppSender(channel)`, and closes the channel at the end.
"""

from __future__ import annotations

from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.messages import TwilioMessages
from bot.channels.whatsapp.routes import whatsapp_routes
from bot.channels.whatsapp.sender import WhatsAppSender
from bot.config import TWILIO_SID_ENV, TWILIO_TOKEN_ENV, Config, ConfigError
from bot.conversation import ConversationThread
from bot.ops.metrics import Metrics
from handlers import Context


def build_whatsapp(
    config: Config,
    context: Context,
    metrics: Metrics | None = None,
    conversation: ConversationThread | None = None,
) -> WhatsAppChannel:
    """The WhatsApp channel for `config` (check it first with `check_whatsapp`)."""
    check_whatsapp(config)
    return WhatsAppChannel(config.whatsapp, context, metrics=metrics, conversation=conversation)


def check_whatsapp(config: Config) -> None:
    """What serving WhatsApp needs beyond a valid file, as one clear line."""
    settings = config.whatsapp
    if not settings.enabled:
        raise ConfigError(f"WhatsApp: set {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV}")
    if not (settings.from_ or settings.messaging_service_sid):
        raise ConfigError(
            '[whatsapp]: set from = "whatsapp:+212…" (your WhatsApp sender) or'
            " messaging_service_sid"
        )
    if not settings.public_url:
        raise ConfigError(
            "[whatsapp] public_url: set the public https URL Twilio calls"
            " (webhooks go to <public_url>/whatsapp/inbound and /whatsapp/status)"
        )


__all__ = [
    "TwilioMessages",
    "WhatsAppChannel",
    "WhatsAppSender",
    "build_whatsapp",
    "check_whatsapp",
    "whatsapp_routes",
]
