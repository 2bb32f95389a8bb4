"""`/healthz`: is this bot doing its job right now? One JSON answer for a load balancer, an
uptime probe or a person: 200 when healthy, 503 with the reasons when not.

Unhealthy means something an operator must look at: the database does not take a write;
the scheduler or a channel's dispatcher has stopped; a due notification has waited longer
than `[health] max_due_age`; or a channel that has notifications to send has had no
successful request, or handled no row, for longer than `[health] max_silence`. Quiet hours
are not a fault: during them only urgent rows count as due, and after them a non-urgent row
counts as waiting from the moment they ended.

`report` reads the outbox's state on the event loop, then asks the database in a worker
thread (on a connection of its own): a check never holds up the conversation.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.dispatcher import QuietHours
from bot.metrics import Metrics
from storage import monitoring
from storage.monitoring import Backlog, Connect
from storage.zones import now_utc, to_utc_text


class Outbox(Protocol):
    """What health reads from the running outbox (`bot.outbox.RunningOutbox`)."""

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

    @property
    def status_code(self) -> int:
        return 200 if self.healthy else 503


@dataclass(frozen=True)
class OutboxState:
    scheduler: bool | None
    dispatchers: Mapping[str, bool]


class Health:
    def __init__(
        self, connect: Connect, metrics: Metrics, channels: Sequence[str], *,
        outbox: Outbox | None = None, quiet: QuietHours | None = None,
        thresholds: Thresholds | None = None, clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.connect = connect
        self.metrics = metrics
        self.channels = tuple(channels)
        self.outbox = outbox
        self.quiet = quiet
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.started_at = clock()

    async def report(self) -> Report:
        """`check`, with the database's part in a worker thread."""
        return await asyncio.to_thread(self.check, self.outbox_state())

    def outbox_state(self) -> OutboxState:
        """What the running outbox says of itself (read on its event loop)."""
        if self.outbox is None:
            return OutboxState(None, {})
        return OutboxState(self.outbox.scheduler_running(),
                           dict(self.outbox.dispatchers_running()))

    def check(self, state: OutboxState | None = None) -> Report:
        state = state or self.outbox_state()
        now = self.clock()
        reasons: list[str] = []
        database, backlogs = self._ask_database(now, reasons)
        body: dict[str, Any] = {"status": "ok", "reasons": reasons, "checked_at": to_utc_text(now),
                                "database": database}
        if state.scheduler is False:
            reasons.append("scheduler stopped")
        body["scheduler"] = {"running": state.scheduler}
        channels: dict[str, Any] = {}
        total_pending, oldest = 0, 0.0
        for channel, backlog in backlogs.items():
            channels[channel] = self._channel(channel, backlog, state.dispatchers.get(channel),
                                              now, reasons)
            if backlog is not None:
                total_pending += backlog.pending
                oldest = max(oldest, channels[channel]["oldest_due_seconds"])
        body["outbox"] = {"pending": total_pending, "oldest_due_seconds": oldest}
        body["channels"] = channels
        if reasons:
            body["status"] = "unhealthy"
        return Report(not reasons, body)

    # --- the parts ----------------------------------------------------------------------------

    def _ask_database(self, now: datetime, reasons: list[str]
                      ) -> tuple[dict[str, Any], dict[str, Backlog | None]]:
        """Whether it takes a write, and each channel's backlog (None when unreadable)."""
        backlogs: dict[str, Backlog | None] = dict.fromkeys(self.channels)
        try:
            with self.connect() as db:
                try:
                    monitoring.probe_write(db)
                except sqlite3.Error as error:
                    reasons.append(f"database not writable: {error}")
                    return {"writable": False, "error": str(error)}, backlogs
                for channel in self.channels:
                    backlogs[channel] = monitoring.backlog(db, channel, now=now)
        except sqlite3.Error as error:
            reasons.append(f"database not readable: {error}")
            return {"writable": False, "error": str(error)}, backlogs
        return {"writable": True}, backlogs

    def _channel(self, channel: str, backlog: Backlog | None, dispatcher: bool | None,
                 now: datetime, reasons: list[str]) -> dict[str, Any]:
        limits = self.thresholds
        last = self.metrics.last_success(channel)
        state: dict[str, Any] = {
            "last_success_at": to_utc_text(last) if last else None,
            "seconds_since_success": _seconds(now, last),
            "dispatcher_running": dispatcher,
        }
        if dispatcher is False:
            reasons.append(f"{channel}: dispatcher stopped")
        if backlog is None:
            return state
        waiting = self._waiting_since(backlog, now)
        state.update(pending=backlog.pending, due=backlog.due,
                     oldest_due_seconds=_seconds(now, backlog.oldest_due) or 0.0,
                     overdue_seconds=_seconds(now, waiting) or 0.0)
        if waiting is None:
            return state
        if now - waiting > limits.max_due_age:
            reasons.append(f"{channel}: a due notification has waited"
                           f" {_whole(now - waiting)} s (limit {_whole(limits.max_due_age)} s)")
        failing = self.metrics.failing_since(channel)
        if failing is not None and now - failing > limits.max_silence:
            since = f"since {to_utc_text(last)}" if last else "since the start"
            reasons.append(f"{channel}: no successful request {since}; requests have failed"
                           f" for {_whole(now - failing)} s while notifications wait")
        handled = self.metrics.last_handled(channel) or self.started_at
        if now - max(handled, waiting) > limits.max_silence:
            reasons.append(f"{channel}: notifications are due but none was handled for"
                           f" {_whole(now - max(handled, waiting))} s")
        return state

    def _waiting_since(self, backlog: Backlog, now: datetime) -> datetime | None:
        """Since when the oldest row that may go now has been allowed to go: urgent rows from
        their due time, the others not before the end of the last quiet hours."""
        if self.quiet is None:
            return backlog.oldest_due
        if self.quiet.ends_at(now) is not None:  # quiet now: only urgent rows may go
            return backlog.oldest_urgent_due
        if backlog.oldest_due is None:
            return None
        ended = last_quiet_end(self.quiet, now)
        waiting = max(backlog.oldest_due, ended) if ended else backlog.oldest_due
        if backlog.oldest_urgent_due is not None:
            waiting = min(waiting, backlog.oldest_urgent_due)
        return waiting


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
