"""`/healthz`: is this bot doing its job right now? One JSON answer for a load balancer, an
uptime probe or a person: 200 when healthy, 503 with the reasons when not.

Unhealthy means something an operator must look at: the database does not take a write
(read-only, full, or busy: another connection has held its write lock for more than
`PROBE_WAIT_MS`); the disk that holds it has less than `DISK_MIN_FREE` bytes free;
the scheduler or a channel's dispatcher has stopped; a channel that has notifications to
send has had no successful request, or handled no row, for longer than `[health]
max_silence`; or a due notification has waited longer than `[health] max_due_age` while
the outbox drains too slowly to catch up (at the last minute's pace, what is due would take
longer than `max_due_age` more). A long broadcast going out at full speed is healthy.

A row counts as waiting from the latest of: its due time, the start of this process (what
fell due while the bot was down is not this process's delay) and, for a non-urgent row, the
end of the last quiet hours (during them only urgent rows count as due).

`report` is cheap to call often: it answers from a report at most `CACHE_FOR` old, makes a
new one once for all the requests that arrive meanwhile, in a worker thread on a connection
of its own, and commits a write (the probe) at most every `PROBE_EVERY` while it succeeds,
at each new report while it fails. The probe waits at most `PROBE_WAIT_MS` for the lock: a
held database makes `/healthz` say so within about a second, not wait with it. A check never
holds up the conversation.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlite_utils import Database

from bot.ops.metrics import Metrics
from bot.outbox.dispatcher import QuietHours
from storage import monitoring
from storage.db import unavailable
from storage.monitoring import Backlog, Connect
from storage.zones import now_utc, to_utc_text

CACHE_FOR = timedelta(seconds=5)
PROBE_EVERY = timedelta(seconds=30)
PACE_WINDOW = timedelta(minutes=1)
PROBE_WAIT_MS = 1_000
# Below this, SQLite's next checkpoint or a broadcast's rows may not fit: time to act.
DISK_MIN_FREE = 16 * 1024 * 1024
# Outcomes after which a row has left the outbox (a 429 or a timeout puts it back).
DRAINED = frozenset({"sent", "blocked", "skipped", "failed"})


class Outbox(Protocol):
    """What health reads from the running outbox (`bot.outbox.running.RunningOutbox`)."""

    def scheduler_running(self) -> bool: ...

    def dispatchers_running(self) -> Mapping[str, bool]: ...


@dataclass(frozen=True)
class Thresholds:
    max_due_age: timedelta = timedelta(hours=1)
    max_silence: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Report:
    healthy: bool
    body: dict[str, Any]
    checked_at: datetime

    @property
    def status_code(self) -> int:
        return 200 if self.healthy else 503


@dataclass(frozen=True)
class OutboxState:
    scheduler: bool | None
    dispatchers: Mapping[str, bool]


class Pace:
    """How many rows a channel's outbox drained (sent, blocked, skipped, failed) per minute
    lately: the metrics' counter, sampled at each check and compared with the newest sample
    at least `PACE_WINDOW` old (or, early on, with the start of the process)."""

    def __init__(self, started_at: datetime, drained: float) -> None:
        self.samples: deque[tuple[datetime, float]] = deque([(started_at, drained)])

    def per_minute(self, now: datetime, drained: float) -> float:
        samples = self.samples
        while len(samples) > 1 and now - samples[1][0] >= PACE_WINDOW:
            samples.popleft()
        then, before = samples[0]
        samples.append((now, drained))
        span = max((now - then).total_seconds(), 1.0)
        return (drained - before) * 60 / span


class Health:
    def __init__(
        self,
        connect: Connect,
        metrics: Metrics,
        channels: Sequence[str],
        *,
        outbox: Outbox | None = None,
        quiet: QuietHours | None = None,
        thresholds: Thresholds | None = None,
        clock: Callable[[], datetime] = now_utc,
        disk: Path | None = None,
    ) -> None:
        self.connect = connect
        self.disk = disk  # the database's directory, whose free space is checked
        self.metrics = metrics
        self.channels = tuple(channels)
        self.outbox = outbox
        self.quiet = quiet
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.started_at = clock()  # the composition root builds it once the outbox runs
        self.paces = {
            channel: Pace(self.started_at, drained(metrics, channel)) for channel in self.channels
        }
        self._probed: tuple[datetime, str | None] | None = None  # when, and the error if any
        self._last: Report | None = None
        self._making: asyncio.Task[Report] | None = None

    async def report(self) -> Report:
        """The last report while it is less than `CACHE_FOR` old; else a new one, made once
        (in a worker thread) for every request that arrives while it is being made."""
        last = self._last
        if last is not None and _within(self.clock() - last.checked_at, CACHE_FOR):
            return last
        if self._making is None:
            self._making = asyncio.get_running_loop().create_task(self._make())
        # A client that hangs up cancels its own wait, not the check the others wait for.
        return await asyncio.shield(self._making)

    async def _make(self) -> Report:
        try:
            self._last = await asyncio.to_thread(self.check, self.outbox_state())
            return self._last
        finally:
            self._making = None

    def outbox_state(self) -> OutboxState:
        """What the running outbox says of itself (read on its event loop)."""
        if self.outbox is None:
            return OutboxState(None, {})
        return OutboxState(self.outbox.scheduler_running(), dict(self.outbox.dispatchers_running()))

    def check(self, state: OutboxState | None = None) -> Report:
        state = state or self.outbox_state()
        now = self.clock()
        reasons: list[str] = []
        database, backlogs = self._ask_database(now, reasons)
        body: dict[str, Any] = {
            "status": "ok",
            "reasons": reasons,
            "checked_at": to_utc_text(now),
            "database": database,
        }
        if self.disk is not None:
            body["disk"] = disk_space(self.disk, reasons)
        if state.scheduler is False:
            reasons.append("scheduler stopped")
        body["scheduler"] = {"running": state.scheduler}
        channels: dict[str, Any] = {}
        total_pending, oldest = 0, 0.0
        for channel, backlog in backlogs.items():
            channels[channel] = self._channel(
                channel, backlog, state.dispatchers.get(channel), now, reasons
            )
            if backlog is not None:
                total_pending += backlog.pending
                oldest = max(oldest, channels[channel]["oldest_due_seconds"])
        body["outbox"] = {"pending": total_pending, "oldest_due_seconds": oldest}
        body["channels"] = channels
        if reasons:
            body["status"] = "unhealthy"
        return Report(not reasons, body, now)

    # --- the parts ----------------------------------------------------------------------------

    def _ask_database(
        self, now: datetime, reasons: list[str]
    ) -> tuple[dict[str, Any], dict[str, Backlog | None]]:
        """Whether it takes a write (probed at most every `PROBE_EVERY`), and each channel's
        backlog (None when unreadable)."""
        backlogs: dict[str, Backlog | None] = dict.fromkeys(self.channels)
        try:
            with self.connect() as db:
                probed = self._probed
                if (
                    probed is None
                    or probed[1] is not None
                    or not _within(now - probed[0], PROBE_EVERY)
                ):
                    probed = self._probed = (now, _probe(db))
                probed_at, error = probed
                if error is None:  # between probes, still: is the lock to be had?
                    held = _waited(db, _lock_check)
                    if held is not None and held.startswith(BUSY):
                        probed_at, error = now, held
                if error is not None:
                    found = {"writable": False, "error": error, "probed_at": to_utc_text(probed_at)}
                    if error.startswith(BUSY):
                        reasons.append(error)
                        found["busy"] = True
                    else:
                        reasons.append(f"database not writable: {error}")
                    return found, backlogs
                for channel in self.channels:
                    backlogs[channel] = monitoring.backlog(db, channel, now=now)
        except sqlite3.Error as error:
            reasons.append(f"database not readable: {error}")
            return {"writable": False, "error": str(error)}, backlogs
        return {"writable": True, "probed_at": to_utc_text(probed_at)}, backlogs

    def _channel(
        self,
        channel: str,
        backlog: Backlog | None,
        dispatcher: bool | None,
        now: datetime,
        reasons: list[str],
    ) -> dict[str, Any]:
        limits = self.thresholds
        last = self.metrics.last_success(channel)
        pace = self.paces[channel].per_minute(now, drained(self.metrics, channel))
        state: dict[str, Any] = {
            "last_success_at": to_utc_text(last) if last else None,
            "seconds_since_success": _seconds(now, last),
            "dispatcher_running": dispatcher,
            "drained_per_minute": round(pace, 1),
        }
        if dispatcher is False:
            reasons.append(f"{channel}: dispatcher stopped")
        if backlog is None:
            return state
        waiting = self._waiting_since(backlog, now)
        state.update(
            pending=backlog.pending,
            due=backlog.due,
            oldest_due_seconds=_seconds(now, backlog.oldest_due) or 0.0,
            overdue_seconds=_seconds(now, waiting) or 0.0,
        )
        if waiting is None:
            return state
        failing = self.metrics.failing_since(channel)
        if failing is not None and now - failing > limits.max_silence:
            since = f"since {to_utc_text(last)}" if last else "since the start"
            reasons.append(
                f"{channel}: no successful request {since}; requests have failed"
                f" for {_whole(now - failing)} s while notifications wait"
            )
        handled = self.metrics.last_handled(channel) or self.started_at
        if now - max(handled, waiting) > limits.max_silence:
            reasons.append(
                f"{channel}: notifications are due but none was handled for"
                f" {_whole(now - max(handled, waiting))} s"
            )
        if now - waiting > limits.max_due_age:
            slow = self._too_slow(backlog, pace, now)
            if slow is not None:
                reasons.append(
                    f"{channel}: a due notification has waited"
                    f" {_whole(now - waiting)} s (limit"
                    f" {_whole(limits.max_due_age)} s) and {slow}"
                )
        return state

    def _too_slow(self, backlog: Backlog, pace: float, now: datetime) -> str | None:
        """Why the rows that may go now would not be gone within `max_due_age` at `pace`
        (rows a minute), or None when they would."""
        if not pace:
            return "none left the outbox in the last minute"
        may_go = backlog.urgent_due if self._quiet_now(now) else backlog.due
        drain = timedelta(minutes=may_go / pace)
        if drain <= self.thresholds.max_due_age:
            return None
        return f"at {pace:.1f} a minute the {may_go} due need {_whole(drain)} s more"

    def _quiet_now(self, now: datetime) -> bool:
        return self.quiet is not None and self.quiet.ends_at(now) is not None

    def _waiting_since(self, backlog: Backlog, now: datetime) -> datetime | None:
        """Since when the oldest row that may go now has been allowed to go, by this process:
        not before it started; urgent rows from their due time, the others not before the end
        of the last quiet hours."""
        if self._quiet_now(now):  # only urgent rows may go
            waiting = backlog.oldest_urgent_due
        elif backlog.oldest_due is None or self.quiet is None:
            waiting = backlog.oldest_due
        else:
            ended = last_quiet_end(self.quiet, now)
            waiting = max(backlog.oldest_due, ended) if ended else backlog.oldest_due
            if backlog.oldest_urgent_due is not None:
                waiting = min(waiting, backlog.oldest_urgent_due)
        return max(waiting, self.started_at) if waiting is not None else None


def drained(metrics: Metrics, channel: str) -> float:
    """Rows of `channel` that have left the outbox since the process started."""
    return sum(
        sample.value
        for family in metrics.send_outcomes.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels["channel"] == channel
        and sample.labels["outcome"] in DRAINED
    )


BUSY = "database busy"


def _probe(db: Database) -> str | None:
    """None when the database takes a write, else what stops it: SQLite's error, or "database
    busy: …" when another connection holds the write lock past `PROBE_WAIT_MS`."""
    return _waited(db, monitoring.probe_write)


def _lock_check(db: Database) -> None:
    """Take the write lock and let it go at once: no write, no page, nothing to sync."""
    db.execute("BEGIN IMMEDIATE")
    db.execute("ROLLBACK")


def _waited(db: Database, attempt: Callable[[Database], None]) -> str | None:
    waited = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {PROBE_WAIT_MS}")
    try:
        attempt(db)
    except sqlite3.Error as error:
        if unavailable(error) == "busy":
            return (
                f"{BUSY}: another connection has held the write lock for more than"
                f" {PROBE_WAIT_MS / 1000:g} s ({error}); people's messages wait for it"
            )
        return str(error)
    finally:
        db.execute(f"PRAGMA busy_timeout = {waited}")
    return None


def disk_space(directory: Path, reasons: list[str]) -> dict[str, Any]:
    """The free space of the disk holding `directory` (the database's), and a reason when it
    is below `DISK_MIN_FREE`: SQLite fails writes with "database or disk is full" long before
    a write probe of one row does (it rewrites pages the files already have)."""
    mount = mount_point(directory)
    try:
        free = shutil.disk_usage(directory).free
    except OSError as error:
        reasons.append(f"disk of the database unreadable: {directory}: {error.strerror}")
        return {"path": str(directory), "mount_point": str(mount), "error": error.strerror}
    if free < DISK_MIN_FREE:
        reasons.append(
            f"disk full: {free} bytes free on {mount} (the disk of the database,"
            f" {directory}); at least {DISK_MIN_FREE} needed"
        )
    return {"path": str(directory), "mount_point": str(mount), "free_bytes": free}


def mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding `path`: the name of the disk for a person."""
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def last_quiet_end(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the last quiet hours before `now` ended (`now` outside them); None without any."""
    if quiet.start == quiet.end:
        return None
    local = now.astimezone(quiet.zone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=quiet.zone)
    if end > local:
        end -= timedelta(days=1)
    return end.astimezone(now.tzinfo)


def _seconds(now: datetime, then: datetime | None) -> float | None:
    return round(max((now - then).total_seconds(), 0.0), 3) if then is not None else None


def _whole(span: timedelta) -> int:
    return int(span.total_seconds())


def _within(age: timedelta, limit: timedelta) -> bool:
    """`age` is recent enough (a clock set back makes it negative: not recent)."""
    return timedelta(0) <= age < limit
