"""The outbox as `formabot shell` runs it, so that a newcomer sees the whole loop with no
credentials: announcements, reminders, waiting-list promotions and a coordinator's final
report reach the console person as they would reach a phone.

The same parts as the running bot, driven step by step instead of by timers: the scheduler's
rebuild releases what is due (reminders recomputed, the misfire rule applied), the console's
`Dispatcher` sends the console rows (rate limits and all), and the open shell shows the rows
handed to its person. Driven between two inputs, a piped script sees the same thing every
time. It runs only when this configuration serves no platform: with credentials set,
`formabot run` owns the outbox and the console is not an audience channel. In the console
conversation `formabot run` holds at a terminal, it only shows (`dispatch=False`): that
process's running outbox sends the console rows, as it does for a shell opened elsewhere.

Quiet hours do not hold back what the console shows: it is the operator's terminal, and a
trial at 22:00 should not wait for the morning to see a reminder.
"""

from __future__ import annotations

import asyncio
import logging

from sqlite_utils import Database

from bot.channels.console import CHANNEL, SETTINGS, ConsoleChannel, ConsoleSender
from bot.config import Config
from bot.context import notification_channels
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.dispatcher import recover_interrupted as recover
from bot.outbox.dispatcher.render import Renderer
from bot.outbox.running import report_to_coordinator, schedule_settings
from bot.outbox.scheduler import OutboxScheduler
from storage import deliveries
from storage.zones import now_utc, zone

log = logging.getLogger(__name__)

ROUNDS = 10  # a release can queue a report or a promotion, which is sent in the next round


class ConsoleOutbox:
    def __init__(
        self, config: Config, db: Database, channel: ConsoleChannel, *, dispatch: bool = True
    ) -> None:
        self.config = config
        self.dispatch = dispatch
        self.db = db
        self.channel = channel
        self.place = zone(config.bot.timezone)
        self.renderer = Renderer(db, self.place, ttl=0.0)
        self.scheduler = OutboxScheduler(
            db, str(config.bot.database), settings=schedule_settings(config)
        )
        self.dispatcher = Dispatcher(
            db,
            ConsoleSender(),
            zone=self.place,
            settings=SETTINGS,
            quiet=None,
            channels=notification_channels(config),
            render=self.renderer,
            on_finished=self._finished,
        )
        self._pumping = asyncio.Lock()  # after an input, and while the person is idle

    def start(self) -> None:
        """Rows a killed shell left `sending` are reported unknown, as the bot does."""
        if self.dispatch:
            recover(self.db, now=now_utc())

    async def pump(self) -> None:
        """Release what is due, send the console rows, then show this person's."""
        async with self._pumping:
            for _ in range(ROUNDS if self.dispatch else 0):
                self.scheduler.rebuild()
                if not await self.dispatcher.send_due():
                    break
            self.show()

    def show(self) -> None:
        for delivery in deliveries.awaiting_display(self.db, CHANNEL, self.channel.name):
            rendered = self.renderer(delivery)
            if rendered is not None:
                self.channel.notify(rendered)
            deliveries.record_status(
                self.db, delivery.provider_message_id or "", "delivered", now=now_utc()
            )

    def _finished(self, announcement_id: int) -> None:
        report_to_coordinator(
            self.db, announcement_id, default_language=self.config.bot.default_language
        )
