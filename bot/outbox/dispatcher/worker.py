"""One channel's dispatcher: pending rows → rate limits → `sending` → request → outcome.

Every row is marked `sending` (committed) before its request, so a crash leaves evidence
instead of a silent duplicate: `recover_interrupted` turns those rows into `unknown` at start.
Rows are read in small batches; the dispatcher never holds a whole audience in memory.

It shares the event loop with the conversation, so it never blocks it for long, and it
commits little: one commit per row was an eighth of the loop's time at 1,000 messages a
second, and a commit now and then meets a WAL checkpoint's fsync. So rows are marked
`sending` a group at a time, just ahead of their slots: at most `mark_ahead_seconds` of the
rate (20 rows at 1,000/s, 8 at 400/s) wait marked for their slot, and when half of them
have gone the next group is marked, in one transaction, before any of its requests leaves.
A crash may thus leave a few rows `unknown` that never left (reported, never resent). At a
rate under 100/s (one row ahead or less) each row is marked alone once its slot came. The
commonest outcome ("sent") is written with the next group's transaction, or on its own
`flush_seconds` (50 ms) after the answer when no group follows: on disk within a few
milliseconds while a broadcast runs, 50 ms at most (a crash before that leaves those rows
`sending`, hence `unknown`). Any other outcome is written the moment it is known. `halt`
stops it without half-written rows: rows not yet marked are left pending, rows marked
finish (those marked ahead take their slots: 20 ms of the rate at most).

In the running bot (`writes`, see `writer.py`) those commits — the groups and the "sent"
outcomes — run in a writer thread on a connection of their own, the loop awaiting each group
before its requests leave: a write lock held by another process (`formabot announce`) or a WAL
checkpoint at COMMIT then delays the next group, never the loop (replies, answers, requests of
rows already marked); rows are then marked 50 ms ahead (`bot.outbox.running`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.ops.metrics import Metrics
from bot.outbox.dispatcher.clock import Clock, SystemClock
from bot.outbox.dispatcher.limits import ChannelPause, PerChatLimit, TokenBucket
from bot.outbox.dispatcher.quiet import QuietHours
from bot.outbox.dispatcher.render import Renderer
from bot.outbox.dispatcher.sender import Sender, SendResult
from bot.outbox.dispatcher.writer import ThreadedWrites
from handlers.types import Reply
from storage import announcements, audit, deliveries
from storage import contacts as contacts_store
from storage.audience import DEFAULT_CHANNELS
from storage.db import write_transaction
from storage.deliveries import Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatcherSettings:
    rate_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    concurrency: int = 8
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    batch: int = 200
    poll_seconds: float = 1.0
    flush_seconds: float = 0.05
    flush_rows: int = 200
    mark_ahead_seconds: float = 0.02  # rows marked `sending` ahead of their slots: this x rate

    @property
    def mark_ahead(self) -> int:
        """How many rows may wait, marked `sending`, for their slot (at least one)."""
        return max(1, math.ceil(self.rate_per_second * self.mark_ahead_seconds))


def recover_interrupted(db: Database, *, now: datetime) -> dict[int, int]:
    """At start, before any dispatcher runs: rows left `sending` become `unknown`, audited."""
    interrupted = deliveries.mark_interrupted_unknown(db, now=now)
    for announcement_id, count in interrupted.items():
        log.warning(
            "announcement %s: %s deliveries interrupted by a crash, reported unknown",
            announcement_id,
            count,
        )
        audit.record(
            db,
            actor="system:outbox",
            action="deliveries.unknown",
            subject=f"announcement:{announcement_id}",
            count=count,
        )
    return interrupted


class Dispatcher:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        *,
        zone: ZoneInfo,
        settings: DispatcherSettings | None = None,
        clock: Clock | None = None,
        quiet: QuietHours | None = None,
        channels: tuple[str, ...] = DEFAULT_CHANNELS,
        render: Callable[[Delivery], Reply | None] | None = None,
        on_finished: Callable[[int], None] | None = None,
        metrics: Metrics | None = None,
        writes: ThreadedWrites | None = None,
    ) -> None:
        self.db = db
        # The group commits and "sent" outcomes: in a writer thread when given (the running
        # bot: a held lock then never stalls the loop), else on this connection, inline.
        self.writes = writes
        self._marking: set[int] = set()  # rows of the group being committed by `writes`
        self._writing: set[asyncio.Future[Any]] = set()  # commits asked of `writes`
        self.sender = sender
        self.channel = sender.channel
        self.settings = settings or DispatcherSettings()
        self.clock = clock or SystemClock()
        self.quiet = quiet
        self.channels = channels
        self.render = render or Renderer(db, zone)
        self.on_finished = on_finished
        self.metrics = metrics or Metrics()
        self.bucket = TokenBucket(self.settings.rate_per_second, self.clock)
        self.per_chat = PerChatLimit(self.settings.per_chat_per_second, self.clock)
        self.pause = ChannelPause(self.clock)
        self.stats: Counter[str] = Counter()
        self._in_flight: set[int] = set()
        self._wake = asyncio.Event()
        self._tasks: dict[asyncio.Task[None], int] = {}
        self._committed: set[int] = set()  # rows marked sending: let them finish
        self._halting = False
        self._sent: list[tuple[int, str | None]] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._to_mark: deque[tuple[int, asyncio.Future[bool]]] = deque()
        self._marked_waiting: set[int] = set()  # marked `sending`, waiting for their slot
        self._mark_handle: asyncio.Handle | None = None
        self.groups: Counter[int] = Counter()  # group size → how many were marked

    # --- running ----------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were written (a job fired, a decline promoted someone): look now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send as rows fall due until `stop` is set; polls, and wakes early on `wake()`.

        When `stop` is set, rows not yet marked `sending` stay pending for the next start
        and the requests in flight finish (bounded by the sender's timeout)."""
        watcher = asyncio.ensure_future(stop.wait())
        watcher.add_done_callback(lambda _: self.halt())
        try:
            while not stop.is_set():
                await self.send_due()
                self._wake.clear()
                if stop.is_set():
                    break
                waiting = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait(
                    {waiting, watcher},
                    timeout=self._next_wait(cap=self.settings.poll_seconds),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
        finally:
            watcher.cancel()
            self.halt()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.flush()
            await self._written()

    def halt(self) -> None:
        """Start no more rows; abandon those waiting for the rate limits (still pending)."""
        self._halting = True
        for task, row_id in list(self._tasks.items()):
            if row_id not in self._committed and row_id not in self._marking:
                task.cancel()
        self._wake.set()

    async def drain(self) -> None:
        """Send until no row is pending, waiting (on the clock) for retries and quiet hours."""
        while True:
            await self.send_due()
            wait = self._next_wait()
            if wait is None:
                return
            await self.clock.sleep(wait)

    async def send_due(self) -> int:
        """One pass over the rows due now, `concurrency` requests at a time; rows handled."""
        slots = asyncio.Semaphore(self.settings.concurrency)
        tasks = self._tasks
        handled = 0
        while not self._halting:
            now = self.clock.now()
            urgent_only = self.quiet is not None and self.quiet.ends_at(now) is not None
            rows = deliveries.due(
                self.db,
                self.channel,
                now=now,
                limit=self.settings.batch,
                urgent_only=urgent_only,
                excluding=self._in_flight,
            )
            if not rows:
                if not tasks:
                    break
                await asyncio.wait(list(tasks), return_when=asyncio.FIRST_COMPLETED)
                continue
            for row in rows:
                await slots.acquire()
                if self._halting:
                    slots.release()
                    break
                self._in_flight.add(row.id)
                task = asyncio.create_task(self._deliver(row))
                tasks[task] = row.id
                task.add_done_callback(partial(self._done, row_id=row.id, slots=slots))
                handled += 1
        if tasks:
            await asyncio.gather(*list(tasks), return_exceptions=True)
        self.flush()
        await self._written()
        for announcement_id in announcements.finish_sent(self.db, now=self.clock.now()):
            if self.on_finished is not None:
                try:
                    self.on_finished(announcement_id)
                except Exception:  # the report must not stop the outbox
                    log.exception("announcement %s: final report failed", announcement_id)
        return handled

    def _done(self, task: asyncio.Task[None], row_id: int, slots: asyncio.Semaphore) -> None:
        self._in_flight.discard(row_id)
        self._committed.discard(row_id)
        self._slot_taken(row_id)
        self._tasks.pop(task, None)
        slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery %s: dispatcher error", row_id, exc_info=task.exception())

    async def admit(self, address: str) -> None:
        """Wait until one more request to `address` keeps every limit: the chat's own rate,
        a pause asked by the platform, then the channel's overall rate.

        A slot reserved before a pause is void once the pause has run: every worker that
        held one would otherwise go at the pause's end, all at once, and provoke the next
        429. They take new, evenly spaced slots instead."""
        await self.per_chat.wait(address)
        await self._slot()

    async def _slot(self) -> None:
        """The channel's overall rate, once no pause is asked (see `admit`)."""
        while True:
            await self.pause.wait()
            await self.bucket.acquire()
            if self.pause.until <= self.clock.now().timestamp():
                return

    def flush(self) -> None:
        """Write the buffered "sent" outcomes, in one transaction."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._sent:
            rows, self._sent = self._sent, []
            if self.writes is None:
                deliveries.mark_sent_many(self.db, rows, now=self.clock.now())
                return
            written = self.writes.submit(
                partial(deliveries.mark_sent_many, rows=rows, now=self.clock.now())
            )
            self._writing.add(written)
            written.add_done_callback(partial(self._outcomes_written, rows=rows))

    def _outcomes_written(
        self, written: asyncio.Future[None], rows: list[tuple[int, str | None]]
    ) -> None:
        self._writing.discard(written)
        if not written.cancelled() and written.exception() is not None:
            log.error(
                "%s outcomes not written, kept for the next commit",
                len(rows),
                exc_info=written.exception(),
            )
            self._sent = rows + self._sent

    async def _written(self) -> None:
        """Until the outcomes and groups handed to the writer thread are on disk."""
        while self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    # --- marking rows `sending`, a group at a time --------------------------------------------

    async def _start_sending(self, row_id: int) -> bool:
        """Marked `sending` and committed, with the rows queued around it; False when it may
        not start (cancelled or taken meanwhile)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._to_mark.append((row_id, future))
        self._mark_soon()
        return await future

    def _mark_soon(self) -> None:
        """Mark the next group once half the rows marked ahead have taken their slot; at the
        end of this turn of the loop, so that rows arriving together go in one group."""
        if (
            self._mark_handle is None
            and not self._marking
            and self._to_mark
            and len(self._marked_waiting) <= self.settings.mark_ahead // 2
        ):
            self._mark_handle = asyncio.get_running_loop().call_soon(self._mark_group)

    def _mark_group(self) -> None:
        """One transaction: the next rows `sending` (up to `mark_ahead` waiting for a slot)
        and the "sent" outcomes buffered so far."""
        self._mark_handle = None
        room = self.settings.mark_ahead - len(self._marked_waiting)
        group: list[tuple[int, asyncio.Future[bool]]] = []
        while self._to_mark and len(group) < room:
            row_id, future = self._to_mark.popleft()
            if not future.done():  # cancelled by `halt` while queued
                group.append((row_id, future))
        if not group:
            return
        now = self.clock.now()
        rows = [row for row, _ in group]
        sent, self._sent = self._sent, []
        if self.writes is None:
            try:
                with write_transaction(self.db):
                    marked = _mark_group(self.db, rows, sent, now)
            except Exception as error:
                self._group_done(group, sent, error=error)
                return
            self._group_done(group, sent, marked=marked)
            return
        self._marking.update(rows)
        committed = self.writes.submit(partial(_mark_group, rows=rows, sent=sent, now=now))
        self._writing.add(committed)
        committed.add_done_callback(partial(self._group_committed, group=group, sent=sent))

    def _group_committed(
        self,
        committed: asyncio.Future[set[int]],
        group: list[tuple[int, asyncio.Future[bool]]],
        sent: list[tuple[int, str | None]],
    ) -> None:
        self._writing.discard(committed)
        self._marking.difference_update(row for row, _ in group)
        if committed.cancelled():
            self._group_done(group, sent, error=asyncio.CancelledError())
        elif (error := committed.exception()) is not None:
            self._group_done(group, sent, error=error)
        else:
            self._group_done(group, sent, marked=committed.result())
        self._mark_soon()

    def _group_done(
        self,
        group: list[tuple[int, asyncio.Future[bool]]],
        sent: list[tuple[int, str | None]],
        *,
        marked: set[int] | None = None,
        error: BaseException | None = None,
    ) -> None:
        if marked is None:  # each row's task reports it; the outcomes stay buffered
            self._sent = sent + self._sent
            for _, future in group:
                if not future.done():
                    future.set_exception(error or RuntimeError("not marked"))
            return
        self.groups[len(group)] += 1
        for row_id, future in group:
            if row_id in marked:
                self._committed.add(row_id)
                self._marked_waiting.add(row_id)
            if not future.done():
                future.set_result(row_id in marked)

    def _slot_taken(self, row_id: int) -> None:
        """`row_id` no longer waits for a slot (it went, or never will): room to mark more."""
        if row_id in self._marked_waiting:
            self._marked_waiting.discard(row_id)
            self._mark_soon()

    def _next_wait(self, cap: float | None = None) -> float | None:
        """Seconds until a pending row may go (quiet hours included); None when none is pending."""
        now = self.clock.now()
        quiet_end = self.quiet.ends_at(now) if self.quiet else None
        candidates: list[datetime] = []
        if quiet_end is not None:
            urgent = deliveries.next_due_at(self.db, self.channel, urgent_only=True)
            if urgent is not None:
                candidates.append(urgent)
            anything = deliveries.next_due_at(self.db, self.channel)
            if anything is not None:
                candidates.append(max(anything, quiet_end))
        elif (anything := deliveries.next_due_at(self.db, self.channel)) is not None:
            candidates.append(anything)
        if not candidates:
            return cap
        wait = max((min(candidates) - now).total_seconds(), 0.0)
        return min(wait, cap) if cap is not None else wait

    # --- one row ----------------------------------------------------------------------------

    async def _deliver(self, row: Delivery) -> None:
        reason = deliveries.skip_reason(self.db, row)
        if reason is not None:
            self._skip(row, reason)
            return
        rendered = self.render(row)
        if rendered is None:
            self._skip(row, "announcement gone")
            return
        await self.per_chat.wait(row.address)
        if self.settings.mark_ahead > 1:
            await self.pause.wait()  # rows wait out a pause unmarked
            if not await self._start_sending(row.id):
                return  # cancelled or handled meanwhile
            try:
                await self._slot()
            finally:
                self._slot_taken(row.id)
        else:  # a slow rate: no row is marked before its slot
            await self._slot()
            if not deliveries.mark_sending(self.db, row.id, now=self.clock.now()):
                return
            self._committed.add(row.id)
        started = time.perf_counter()
        try:
            result = await self.sender.send(row, rendered)
        except Exception as error:  # a sender bug must not stop the broadcast
            log.exception("delivery %s: sender raised", row.id)
            result = SendResult.transient(f"{type(error).__name__}: {error}")
        self.metrics.sent(
            self.channel,
            result.outcome,
            None if result.outcome == "skipped" else time.perf_counter() - started,
        )
        self._apply(row, result)

    def _skip(self, row: Delivery, reason: str) -> None:
        if reason == "blocked":
            reason = deliveries.reroute_with_reason(
                self.db, row, reason, channels=self.channels, now=self.clock.now()
            )
        deliveries.mark_skipped(self.db, row.id, now=self.clock.now(), reason=reason)
        self.stats["skipped"] += 1
        self.metrics.sent(self.channel, "skipped", None)

    def _apply(self, row: Delivery, result: SendResult) -> None:
        now = self.clock.now()
        self.stats[result.outcome] += 1
        if result.outcome == "sent":
            self._sent.append((row.id, result.provider_message_id))
            if len(self._sent) >= self.settings.flush_rows:
                self.flush()
            elif self._flush_handle is None:
                self._flush_handle = asyncio.get_running_loop().call_later(
                    self.settings.flush_seconds, self.flush
                )
        elif result.outcome == "retry_after":
            self.pause.pause(result.retry_after)
            self.metrics.retried(self.channel)
            deliveries.retry_later(
                self.db,
                row.id,
                now=now,
                reason=result.reason,
                at=now + timedelta(seconds=result.retry_after),
                count_attempt=False,
            )
        elif result.outcome == "transient":
            attempts = row.attempts + 1
            if attempts >= self.settings.max_attempts:
                deliveries.mark_failed(
                    self.db,
                    row.id,
                    now=now,
                    reason=(f"{result.reason} (gave up after {attempts} attempts)"),
                )
            else:
                backoff = self.settings.backoff_seconds * 2 ** (attempts - 1)
                self.metrics.retried(self.channel)
                deliveries.retry_later(
                    self.db,
                    row.id,
                    now=now,
                    reason=result.reason,
                    at=now + timedelta(seconds=backoff),
                )
        elif result.outcome == "skipped":
            reason = deliveries.reroute_with_reason(
                self.db, row, result.reason, channels=self.channels, now=now
            )
            deliveries.mark_skipped(self.db, row.id, now=now, reason=reason, from_status="sending")
        elif result.outcome == "blocked":
            contacts_store.mark_identity_inactive(self.db, row.channel, row.address, result.reason)
            reason = deliveries.reroute_with_reason(
                self.db, row, f"blocked: {result.reason}", channels=self.channels, now=now
            )
            deliveries.mark_failed(self.db, row.id, now=now, reason=reason)
        else:
            deliveries.mark_failed(self.db, row.id, now=now, reason=result.reason)


def _mark_group(
    db: Database, rows: list[int], sent: list[tuple[int, str | None]], now: datetime
) -> set[int]:
    """The next rows `sending` and the "sent" outcomes buffered so far (one transaction,
    the caller's); the rows marked."""
    marked = deliveries.mark_sending_many(db, rows, now=now)
    if sent:
        deliveries.mark_sent_many(db, sent, now=now)
    return marked
