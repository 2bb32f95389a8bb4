"""The scheduler: APScheduler 3 jobs derived from the database, never the other way round.

Each scheduled announcement or reminder row is one `date` job with a deterministic id
(`announcement-<id>`, `reminder-<session>-<offset>`), so rebuilding replaces and never
doubles. Jobs are module-level functions taking plain values (the database path and a row
id), so nothing lives only in memory. At start, rows that fell due while the bot was down
go through the misfire rule in `storage.outbox.release`; a periodic resync picks up what the
CLI or an import wrote meanwhile (new announcements, moved or cancelled sessions).

Delivery rows are never written on the bot's event loop, where the conversation runs: every
release happens in a worker thread, on a connection of its own. A coordinator's "now" from a
chat is recorded `scheduled`, due now; a short tick (`due_seconds`) finds such rows — due,
with no job of their own — and gives each a job that runs at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlite_utils import Database

from bot.outbox.dispatcher.clock import Clock, SystemClock
from storage import announcements, deliveries, open_database, reminders
from storage.announcements import Announcement
from storage.audience import DEFAULT_CHANNELS
from storage.outbox import Release, release
from storage.zones import now_utc

log = logging.getLogger(__name__)

RESYNC_JOB = "outbox-resync"
DUE_JOB = "outbox-due"


@dataclass(frozen=True)
class ScheduleSettings:
    misfire_grace: timedelta = timedelta(hours=6)
    reminder_offsets: dict[str, timedelta] = field(
        default_factory=lambda: {
            "7d": timedelta(days=7),
            "1d": timedelta(days=1),
            "2h": timedelta(hours=2),
        }
    )
    confirm_at: str = "1d"
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    default_language: str = "fr"
    resync_seconds: float = 30.0
    due_seconds: float = 1.0


async def fire(
    database: str,
    announcement_id: int,
    grace_seconds: float,
    channels: list[str],
    default_language: str,
) -> None:
    """A job falls due: the row's deliveries are written (idempotently) for the dispatcher.

    In a worker thread, on a connection of its own: writing a large audience takes a while,
    and the conversation on the bot's loop must go on meanwhile."""
    outcome = await asyncio.to_thread(
        _release, database, announcement_id, grace_seconds, tuple(channels), default_language
    )
    if outcome.outcome == "missed":
        log.warning("announcement %s %s", announcement_id, outcome.note)
    else:
        log.info(
            "announcement %s due: %s (%s rows)", announcement_id, outcome.outcome, outcome.rows
        )


def _release(
    database: str,
    announcement_id: int,
    grace_seconds: float,
    channels: tuple[str, ...],
    default_language: str,
) -> Release:
    db = open_database(database)
    try:
        return release(
            db,
            announcement_id,
            now=now_utc(),
            grace=timedelta(seconds=grace_seconds),
            channels=channels,
            default_language=default_language,
        )
    finally:
        db.close()


def _due(database: str, now: datetime) -> list[Announcement]:
    """Scheduled rows whose time has come, read on a connection of the caller's thread."""
    db = open_database(database, migrate=False)
    try:
        return announcements.due(db, now=now)
    finally:
        db.close()


@dataclass
class RebuildReport:
    scheduled: list[str] = field(default_factory=list)  # job ids, for rows to come
    released: list[Release] = field(default_factory=list)  # overdue, released by the rebuild
    due: list[str] = field(default_factory=list)  # job ids, for overdue rows: run at once
    settled: int = 0  # rows moved off a channel not served (see deliveries.settle_unserved)

    @property
    def missed(self) -> list[Release]:
        return [item for item in self.released if item.outcome == "missed"]


class OutboxScheduler:
    """Owns the APScheduler instance; `start` rebuilds once, `rebuild` may run again (resync)."""

    def __init__(
        self,
        db: Database,
        database_path: str,
        *,
        settings: ScheduleSettings | None = None,
        clock: Clock | None = None,
        scheduler: AsyncIOScheduler | None = None,
        on_release: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.database_path = database_path
        self.settings = settings or ScheduleSettings()
        self.clock = clock or SystemClock()
        self.scheduler = scheduler or AsyncIOScheduler(timezone="UTC")
        self.on_release = on_release
        self._started = False
        self._running: set[str] = set()  # ids of the jobs submitted and not yet finished

    def start(self) -> RebuildReport:
        """Run, then rebuild from the database; calling it again does nothing. Running first,
        what fell due while the bot was down is released by jobs, in worker threads, while
        the conversation starts."""
        if self._started:
            return RebuildReport()
        self._started = True
        self.scheduler.add_job(
            self.resync,
            "interval",
            seconds=self.settings.resync_seconds,
            id=RESYNC_JOB,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.release_due,
            "interval",
            seconds=self.settings.due_seconds,
            id=DUE_JOB,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.add_listener(self._job_submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.add_listener(self._job_ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.scheduler.start()
        return self.rebuild()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def resync(self) -> None:
        self.rebuild()

    def rebuild(self) -> RebuildReport:
        """Reminders recomputed from sessions; one job per scheduled row; overdue rows go
        through the misfire rule: by a job of their own that runs at once while the scheduler
        runs, here otherwise (a tool, a test)."""
        now = self.clock.now()
        settings = self.settings
        reminders.sync_all(
            self.db, offsets=settings.reminder_offsets, confirm_at=settings.confirm_at, now=now
        )
        report = RebuildReport(
            settled=deliveries.settle_unserved(self.db, served=settings.channels, now=now)
        )
        wanted: set[str] = set()
        for row in announcements.scheduled(self.db):
            if row.due_at <= now:
                if self.scheduler.running:
                    wanted.add(row.job_id)
                    if self._release_soon(row):
                        report.due.append(row.job_id)
                    continue
                report.released.append(
                    release(
                        self.db,
                        row.id,
                        now=now,
                        grace=settings.misfire_grace,
                        channels=settings.channels,
                        default_language=settings.default_language,
                    )
                )
                continue
            wanted.add(row.job_id)
            if not self.scheduler.running and self.scheduler.get_job(row.job_id):
                self.scheduler.remove_job(row.job_id)  # pending jobs are not replaced in place
            self._add_fire(row, at=row.due_at)
            report.scheduled.append(row.job_id)
        for job in self.scheduler.get_jobs():
            if job.id not in (RESYNC_JOB, DUE_JOB) and job.id not in wanted:
                job.remove()  # cancelled or released since the last rebuild
        for item in report.missed:
            log.warning("announcement %s %s", item.announcement_id, item.note)
        if (report.released or report.settled) and self.on_release is not None:
            self.on_release()
        return report

    async def release_due(self) -> list[str]:
        """Give each scheduled row that is due and has no job of its own (a coordinator's
        "now" from a chat, a time the CLI set before the next resync) a job that runs at
        once; the ids of the jobs added. Run every `due_seconds`, on the loop: the reading
        is done in a worker thread, the release by the job (`fire`), in another."""
        rows = await asyncio.to_thread(_due, self.database_path, self.clock.now())
        return [row.job_id for row in rows if self._release_soon(row)]

    def _release_soon(self, row: Announcement) -> bool:
        """A job that releases `row` at once, unless its job is pending or running already."""
        if row.job_id in self._running or self.scheduler.get_job(row.job_id) is not None:
            return False
        self._add_fire(row, at=None)
        return True

    def _add_fire(self, row: Announcement, *, at: datetime | None) -> None:
        """The job that releases `row` at `at` (None: now), by its deterministic id."""
        settings = self.settings
        self.scheduler.add_job(
            fire,
            "date",
            run_date=at,
            id=row.job_id,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            args=[
                self.database_path,
                row.id,
                settings.misfire_grace.total_seconds(),
                list(settings.channels),
                settings.default_language,
            ],
        )

    def _job_submitted(self, event: JobEvent) -> None:
        self._running.add(event.job_id)

    def _job_ran(self, event: JobExecutionEvent) -> None:
        self._running.discard(event.job_id)
        if event.job_id not in (RESYNC_JOB, DUE_JOB) and self.on_release is not None:
            self.on_release()
