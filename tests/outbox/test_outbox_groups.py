"""Rows marked `sending` a group at a time, just ahead of their slots: each row is `sending` on
disk (seen by another connection) before its request leaves, few rows wait marked, one
commit serves many rows, and "sent" outcomes ride on the next group's commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from outbox_fakes import NOW, FakeClock, FakeSender
from sqlite_utils import Database

from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, SendResult
from bot.outbox.dispatcher import recover_interrupted as recover
from bot.outbox.dispatcher.writer import ThreadedWrites
from handlers.types import Reply
from storage import announcements, contacts, deliveries, open_database
from storage.audience import Audience
from storage.deliveries import Delivery
from storage.outbox import release
from storage.zones import to_utc_text, zone

RATE = 1000
RECIPIENTS = 120


class Watching(FakeSender):
    """At each request, looks at the database through a connection of its own: what another
    process (or the next start after a crash) would find on disk at that moment."""

    def __init__(self, clock: FakeClock, path: Path) -> None:
        super().__init__("telegram", clock)
        self.other = open_database(path, migrate=False)
        self.not_sending: list[int] = []  # rows requested while not `sending` on disk
        self.marked_ahead: list[int] = []  # rows `sending` on disk, not requested yet
        self.sent_on_disk: list[int] = []  # rows whose "sent" was on disk at each request
        self.answered: list[int] = []
        self.stop_after: int | None = None
        self.stop = asyncio.Event()

    def on_disk(self, status: str) -> set[int]:
        return {
            row_id
            for (row_id,) in self.other.execute(
                "SELECT id FROM deliveries WHERE status = ?", [status]
            )
        }

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        sending = self.on_disk("sending")
        if delivery.id not in sending:
            self.not_sending.append(delivery.id)
        requested = {call.delivery_id for call in self.calls} | {delivery.id}
        self.marked_ahead.append(len(sending - requested))
        self.sent_on_disk.append(len(self.on_disk("sent")))
        result = await super().send(delivery, rendered)
        await self.clock.sleep(0.05)  # the platform's latency
        self.answered.append(delivery.id)
        if self.stop_after is not None and len(self.calls) >= self.stop_after:
            self.stop.set()
        return result


def audience(db: Database) -> int:
    people = []
    for number in range(RECIPIENTS):
        people.append(contacts.create(db, name=f"P{number}", consent_at=to_utc_text(NOW)))
        contacts.attach_identity(db, people[-1], channel="telegram", address=str(5000 + number))
    announcement_id = announcements.create(
        db,
        texts={"*": "Nouvelle session"},
        audience=Audience(contacts=tuple(people)),
        due_at=NOW,
        created_by="test",
        now=NOW,
    )
    release(db, announcement_id, now=NOW, grace=timedelta(hours=6))
    return announcement_id


def dispatcher(db: Database, sender: FakeSender, clock: FakeClock) -> Dispatcher:
    return Dispatcher(
        db,
        sender,
        zone=zone("Africa/Casablanca"),
        clock=clock,
        settings=DispatcherSettings(rate_per_second=RATE, per_chat_per_second=0, concurrency=100),
    )


def commits(db: Database) -> list[str]:
    statements: list[str] = []
    db.conn.set_trace_callback(
        lambda sql: statements.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    return statements


async def test_each_row_is_sending_on_disk_before_its_request_and_few_wait_marked(
    db_path: Path, people: Database, clock: FakeClock
) -> None:
    announcement_id = audience(people)
    sender = Watching(clock, db_path)
    worker = dispatcher(people, sender, clock)
    seen = commits(people)
    await worker.drain()
    people.conn.set_trace_callback(None)
    sender.other.close()

    assert len(sender.calls) == RECIPIENTS
    assert sender.not_sending == []  # the promise: `sending` on disk before the request
    assert max(sender.marked_ahead) <= worker.settings.mark_ahead == 20
    # One commit marks many rows (a group when half of the 20 ahead have gone), and the
    # "sent" outcomes ride along: far fewer commits than rows.
    assert len(seen) < RECIPIENTS / 4
    assert sum(size * count for size, count in worker.groups.items()) == RECIPIENTS
    assert max(worker.groups) > 5
    # Outcomes reach the disk while the broadcast runs, not at its end.
    assert sender.sent_on_disk[-1] >= RECIPIENTS - worker.settings.concurrency
    assert deliveries.report(people, announcement_id).counts == {"sent": RECIPIENTS}


async def test_a_crash_mid_broadcast_leaves_only_rows_marked_ahead_or_in_flight_unknown(
    db_path: Path, people: Database, clock: FakeClock
) -> None:
    """Stopped dead (the loop's tasks dropped, nothing flushed: as a SIGKILL leaves the
    file), then started again: no row is sent twice, the rows `sending` become `unknown`,
    and they are only those in flight or marked just ahead."""
    announcement_id = audience(people)
    sender = Watching(clock, db_path)
    sender.stop_after = 50
    worker = dispatcher(people, sender, clock)
    running = asyncio.create_task(worker.drain())
    await sender.stop.wait()
    running.cancel()  # the process dies: no `finally` of ours writes anything more
    for task in list(worker._tasks):
        task.cancel()
    for handle in (worker._flush_handle, worker._mark_handle):
        if handle is not None:
            handle.cancel()  # nor will a timer of the dead process
    await asyncio.gather(running, *worker._tasks, return_exceptions=True)
    sender.other.close()

    counts = deliveries.report(people, announcement_id).counts
    requested = {call.delivery_id for call in sender.calls}
    sending = {
        row.id
        for row in deliveries.of_announcement(people, announcement_id)
        if row.status == "sending"
    }
    assert len(sending - requested) <= worker.settings.mark_ahead
    assert len(sending & requested) <= worker.settings.concurrency
    assert counts.get("sent", 0) + len(sending) >= len(requested)

    assert recover(people, now=clock.now()) == {announcement_id: len(sending)}
    again = FakeSender("telegram", clock)
    await dispatcher(people, again, clock).drain()
    assert not requested & {call.delivery_id for call in again.calls}  # never resent
    assert not sending & {call.delivery_id for call in again.calls}
    final = deliveries.report(people, announcement_id).counts
    assert final == {"sent": RECIPIENTS - len(sending), "unknown": len(sending)}


async def test_with_its_commits_in_a_writer_thread_each_row_is_still_sending_before_its_request(
    db_path: Path, people: Database, clock: FakeClock
) -> None:
    """The running bot's way (`ThreadedWrites`: the commits on a connection of their own, in
    a thread, the loop awaiting them): the same promise, and every outcome on disk at the end,
    while another connection holds the write lock now and then."""
    announcement_id = audience(people)
    sender = Watching(clock, db_path)
    writes = ThreadedWrites(db_path)
    worker = Dispatcher(
        people,
        sender,
        zone=zone("Africa/Casablanca"),
        clock=clock,
        settings=DispatcherSettings(rate_per_second=RATE, per_chat_per_second=0, concurrency=100),
        writes=writes,
    )
    other = open_database(db_path, migrate=False)
    holding = True

    async def hold_the_lock_now_and_then() -> None:
        while holding:  # as `formabot announce` does, a page at a time
            other.conn.execute("BEGIN IMMEDIATE")
            await asyncio.sleep(0.002)
            other.conn.execute("COMMIT")
            await asyncio.sleep(0.002)

    holder = asyncio.create_task(hold_the_lock_now_and_then())
    try:
        await worker.drain()
    finally:
        holding = False
        await holder
        writes.close()
        other.close()
        sender.other.close()

    assert len(sender.calls) == RECIPIENTS
    assert sender.not_sending == []
    assert max(sender.marked_ahead) <= worker.settings.mark_ahead
    assert sum(size * count for size, count in worker.groups.items()) == RECIPIENTS
    assert deliveries.report(people, announcement_id).counts == {"sent": RECIPIENTS}
