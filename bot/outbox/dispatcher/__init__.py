"""The outbox's workers: send pending delivery rows through a channel's `Sender`.

Public surface: `Dispatcher`, `DispatcherSettings`, `Sender`, `SendResult`, `QuietHours`,
`Clock`/`SystemClock`. A channel implements `Sender` once; nothing here imports a channel.
"""

from __future__ import annotations

from bot.outbox.dispatcher.clock import Clock, SystemClock
from bot.outbox.dispatcher.quiet import QuietHours
from bot.outbox.dispatcher.sender import Sender, SendResult
from bot.outbox.dispatcher.worker import Dispatcher, DispatcherSettings, recover_interrupted

__all__ = [
    "Clock",
    "Dispatcher",
    "DispatcherSettings",
    "QuietHours",
    "SendResult",
    "Sender",
    "SystemClock",
    "recover_interrupted",
]
