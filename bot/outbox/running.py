"""The outbox inside the running bot: crash recovery, the scheduler and one dispatcher per
channel, all on the bot's event loop, started and stopped by the composition root.

At start, rows a crash left `sending` become `unknown` (logged and audited) before any
dispatcher runs; the scheduler rebuilds its jobs from the database and releases what fell due
meanwhile. An audience's delivery rows are written in the scheduler's worker threads, never
on the loop, where the conversation runs (only one-person notices are: a promotion, a report).
Each release wakes the dispatchers. When a broadcast has gone out, the coordinator who started
it from a chat gets the final report through the outbox too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlite_utils import Database

from bot.channels import console
from bot.config import Config
from bot.context import notification_channels
from bot.durations import parse_duration
from bot.ops.metrics import Metrics
from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, QuietHours, Sender
from bot.outbox.dispatcher import recover_interrupted as recover
from bot.outbox.dispatcher.writer import ThreadedWrites
from bot.outbox.scheduler import OutboxScheduler, ScheduleSettings
from handlers.notifications import final_report
from storage import announcements, contacts, deliveries, open_database
from storage.audience import ALL_CHANNELS
from storage.outbox import notify_report
from storage.zones import now_utc, zone

log = logging.getLogger(__name__)


# Rows marked `sending` ahead of their slots in the running bot, whose commits wait for the
# lock in a writer thread (`ThreadedWrites`): 50 ms of the rate, so that the next group is
# committed while 25 ms of marked rows still go, even as `formabot announce` holds the lock
# for a page (20 ms ran dry then: 870 msg/s in the first 10 s at 100,000). The price: a crash
# may leave up to 50 ms of the rate (50 rows at 1,000/s) `unknown` that never left.
MARK_AHEAD_SECONDS = 0.05


def dispatcher_settings(config: Config, channel: str) -> DispatcherSettings:
    """The channel's rate limits and the outbox's retry policy, from the config file (the
    console's are its own: no platform limits it)."""
    if channel == console.CHANNEL:
        return console.SETTINGS
    rate = (
        config.telegram.rate_limit_per_second
        if channel == "telegram"
        else config.whatsapp.rate_limit_per_second
    )
    per_chat = config.telegram.per_chat_per_second if channel == "telegram" else 0.0
    return DispatcherSettings(
        rate_per_second=rate,
        per_chat_per_second=per_chat,
        concurrency=config.dispatcher.concurrency,
        max_attempts=config.dispatcher.max_attempts,
        backoff_seconds=config.dispatcher.backoff_seconds,
        mark_ahead_seconds=MARK_AHEAD_SECONDS,
    )


def schedule_settings(config: Config) -> ScheduleSettings:
    return ScheduleSettings(
        misfire_grace=parse_duration(config.scheduler.misfire_grace),
        reminder_offsets=config.reminders.timedeltas(),
        confirm_at=config.reminders.confirm_at,
        channels=notification_channels(config),
        default_language=config.bot.default_language,
    )


def report_to_coordinator(
    db: Database, announcement_id: int, *, default_language: str = "fr"
) -> int | None:
    """Queue the final report of a broadcast for the coordinator who started it from a chat
    (`created_by` "telegram:<id>", "whatsapp:<number>" or "console:<name>"); the report's
    id, or None when there is no one to tell (a CLI broadcast, a reminder, an identity
    gone)."""
    announcement = announcements.get(db, announcement_id)
    if announcement is None or announcement.kind != "announcement":
        return None
    channel, _, address = announcement.created_by.partition(":")
    if channel not in ALL_CHANNELS or not address:
        return None
    identity = contacts.identity(db, channel, address)
    contact = contacts.get(db, identity.contact_id) if identity and identity.active else None
    if contact is None:
        return None
    text = final_report(
        announcement, deliveries.report(db, announcement_id), contact.language or default_language
    )
    return notify_report(
        db, about=announcement_id, contact_id=contact.id, channel=channel, text=text, now=now_utc()
    ).announcement_id


class RunningOutbox:
    """`start` once on the bot's loop, `stop` once; the senders are opened and closed by the
    caller (they belong to their channel)."""

    def __init__(
        self,
        config: Config,
        db: Database,
        senders: Sequence[Sender],
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self._writes: dict[str, ThreadedWrites] = {}
        place = zone(config.bot.timezone)
        quiet = QuietHours.parse(config.bot.quiet_hours, place)
        self.dispatchers = {
            sender.channel: Dispatcher(
                db,
                sender,
                zone=place,
                settings=dispatcher_settings(config, sender.channel),
                quiet=None if sender.channel == console.CHANNEL else quiet,
                channels=notification_channels(config),
                on_finished=self._finished,
                metrics=metrics,
                # its commits off the loop: a lock held by the CLI never stalls the loop
                writes=self._writes.setdefault(
                    sender.channel,
                    ThreadedWrites(config.bot.database, name=f"formabot-outbox-{sender.channel}"),
                ),
            )
            for sender in senders
        }
        # The scheduler's periodic resync runs in a worker thread: its own connection.
        self._scheduler_db = open_database(config.bot.database)
        self.scheduler = OutboxScheduler(
            self._scheduler_db,
            str(config.bot.database),
            settings=schedule_settings(config),
            on_release=self._released,
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        interrupted = recover(self.db, now=now_utc())
        if interrupted:
            log.warning(
                "%s deliveries were interrupted by the last stop and are reported"
                " unknown (never resent): announcements %s",
                sum(interrupted.values()),
                ", ".join(map(str, sorted(interrupted))),
            )
        rebuilt = self.scheduler.start()
        log.info(
            "outbox started: %s jobs scheduled, %s fell due while stopped (released"
            " in the background); channels: %s",
            len(rebuilt.scheduled),
            len(rebuilt.due),
            ", ".join(self.dispatchers),
        )
        self._tasks = [
            asyncio.create_task(dispatcher.run(self._stop), name=f"outbox-{channel}")
            for channel, dispatcher in self.dispatchers.items()
        ]

    async def stop(self) -> None:
        """No new job fires; each dispatcher lets its requests in flight finish."""
        self.scheduler.shutdown()
        self._stop.set()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("outbox dispatcher failed", exc_info=result)
        for writes in self._writes.values():
            writes.close()
        self._scheduler_db.close()
        log.info("outbox stopped")

    def scheduler_running(self) -> bool:
        return bool(self.scheduler.scheduler.running)

    def dispatchers_running(self) -> dict[str, bool]:
        """Channel → whether its dispatcher's task is still running (for `/healthz`)."""
        tasks = {task.get_name(): task for task in self._tasks}
        return {
            channel: (task := tasks.get(f"outbox-{channel}")) is not None and not task.done()
            for channel in self.dispatchers
        }

    def wake(self) -> None:
        for dispatcher in self.dispatchers.values():
            dispatcher.wake()

    def _released(self) -> None:
        """Called by the scheduler, from its thread or the loop: wake the dispatchers."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake)

    def _finished(self, announcement_id: int) -> None:
        report = report_to_coordinator(
            self.db, announcement_id, default_language=self.config.bot.default_language
        )
        log.info(
            "announcement %s has gone out%s",
            announcement_id,
            f"; final report {report} queued for its coordinator" if report else "",
        )
        if report is not None:
            self.wake()
