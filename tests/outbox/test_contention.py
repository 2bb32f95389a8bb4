"""The outbox never costs a reply: while a large audience's delivery rows are being written,
by another connection (the CLI, the scheduler's thread) or after a coordinator confirmed in a
chat, the conversation's own writes wait briefly for their turn and every message is answered.

Real SQLite files, real threads and a real event loop; the bounds on time are generous (the
machine may be busy), and set against the time the rows took to write, so that the old
behaviour (an immediate "database is locked", or a loop frozen for the whole write) fails.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path

from outbox_fakes import FakeClock, FakeSender
from sqlite_utils import Database

from bot.config import load
from bot.outbox.running import RunningOutbox
from bot.outbox.scheduler import OutboxScheduler, ScheduleSettings
from handlers import Context
from storage import (
    announcements,
    broadcasts,
    contacts,
    coordinators,
    deliveries,
    open_database,
    registrations,
)
from storage.audience import Audience
from storage.outbox import IMMEDIATE_GRACE, release
from storage.zones import now_utc
from tests.outbox.crowd import seed_crowd
from tests.people import Person

CROWD = 50_000


def rows_of(db: Database, announcement_id: int) -> tuple[int, int]:
    """(rows, distinct contacts) written so far for the announcement."""
    rows, people = db.execute(
        "SELECT count(*), count(DISTINCT contact_id) FROM deliveries WHERE announcement_id = ?",
        [announcement_id],
    ).fetchone()
    return rows, people


def test_a_transaction_that_reads_then_writes_waits_for_another_writer(
    programme: Database, db_path: Path
) -> None:
    """Any module's `db.atomic()` (here a registration counting the seats left) begins by
    taking the write lock, so it waits for the other writer instead of failing at once."""
    amina = contacts.create(programme, name="Amina")
    other = open_database(db_path)
    other.conn.execute("BEGIN IMMEDIATE")
    contacts.create(other, name="Written meanwhile")
    timer = threading.Timer(0.2, other.conn.execute, ["COMMIT"])
    timer.start()
    try:
        started = time.perf_counter()
        outcome = registrations.register(programme, amina, "mig-2027-01", 12)
        waited = time.perf_counter() - started
    finally:
        timer.join()
        other.close()
    assert outcome.status == "registered"
    assert 0.1 < waited < 4  # for the other writer, well within the busy timeout


def test_conversation_writes_wait_their_turn_while_another_connection_writes_an_audience(
    programme: Database, db_path: Path
) -> None:
    seed_crowd(db_path, CROWD)
    context = Context(db=programme)
    published: list[broadcasts.Published] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def announce_from_the_cli() -> None:
        db = open_database(db_path)  # another process would do the same: its own connection
        try:
            now = now_utc()
            published.append(
                broadcasts.publish(
                    db,
                    texts={"*": "Nouvelle session de soudage"},
                    audience=Audience(),
                    due_at=now,
                    created_by="cli:test",
                    now=now,
                )
            )
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            db.close()
            done.set()

    writer = threading.Thread(target=announce_from_the_cli, name="cli-announce")
    writer.start()
    while not programme.execute("SELECT count(*) FROM deliveries").fetchone()[0]:
        assert not done.is_set(), failures
        time.sleep(0.001)

    slowest = 0.0
    people_during = 0
    while not done.is_set():
        number = people_during
        started = time.perf_counter()
        # A first message (contact and identity created), a second one (identity updated),
        # a profile change, and someone going through the whole onboarding.
        first, created = contacts.resolve(programme, channel="telegram", address=f"5{number}")
        again, _ = contacts.resolve(
            programme, channel="telegram", address=f"5{number}", chat_id=f"5{number}"
        )
        contacts.update(programme, first.id, language="ar")
        Person(context, f"newcomer-{number}").onboard()  # fails on any missing reply
        slowest = max(slowest, time.perf_counter() - started)
        assert created and again.id == first.id
        people_during += 1
    writer.join()

    assert failures == []
    assert people_during >= 2  # the conversation really ran during the write
    assert slowest < 1.0  # each write waited for a batch, not for the whole audience
    [announcement] = published
    assert announcement.release is not None and announcement.release.rows == CROWD
    assert rows_of(programme, announcement.announcement_id) == (CROWD, CROWD)


async def test_what_fell_due_while_the_bot_was_down_is_released_by_a_job_at_start(
    people: Database, db_path: Path
) -> None:
    now = now_utc()
    overdue = broadcasts.publish(
        people,
        texts={"*": "Bonjour"},
        audience=Audience(),
        due_at=now - timedelta(hours=1),
        created_by="cli:test",
        now=now - timedelta(hours=2),
    ).announcement_id
    scheduler = OutboxScheduler(open_database(db_path), str(db_path))
    rebuilt = scheduler.start()
    try:
        assert (rebuilt.released, rebuilt.due) == ([], [f"announcement-{overdue}"])
        deadline = time.monotonic() + 20
        while announcements.get(people, overdue).status != "sending":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    finally:
        scheduler.shutdown()
        scheduler.db.close()
    assert rows_of(people, overdue) == (3, 3)


def compose_for_now(coordinator: Person) -> None:
    """/announce to everyone, about no session, now: up to the preview."""
    coordinator.command("announce")
    coordinator.presses("Next: everyone")
    coordinator.presses("No session")
    coordinator.says("Nouvelle session TIG")
    coordinator.presses("Next")
    coordinator.presses("Now")


async def test_a_broadcast_confirmed_in_a_chat_does_not_hold_up_other_conversations(
    programme: Database, db_path: Path
) -> None:
    seed_crowd(db_path, CROWD)
    coordinators.add(programme, channel="console", address="salma", name="Salma")
    context = Context(db=programme)
    salma = Person(context, "salma")
    salma.onboard(name="Salma Bennani")
    compose_for_now(salma)
    assert f"Recipients: {CROWD} (Telegram {CROWD}, WhatsApp 0)" in salma.text
    amina = Person(context, "amina")
    amina.onboard()
    scheduler_db = open_database(db_path)
    scheduler = OutboxScheduler(
        scheduler_db, str(db_path), settings=ScheduleSettings(due_seconds=0.05)
    )
    scheduler.start()
    latencies: list[float] = []
    chatting = asyncio.Event()

    async def chat() -> None:
        """Amina writes every 20 ms; a reply's latency runs from when she wrote."""
        while chatting.is_set():
            wrote = time.perf_counter() + 0.02
            await asyncio.sleep(0.02)
            assert amina.says("menu"), "no reply"
            latencies.append(time.perf_counter() - wrote)

    chatting.set()
    chat_task = asyncio.create_task(chat())
    try:
        await asyncio.sleep(0.1)
        confirmed = time.perf_counter()
        salma.presses("Confirm")
        [created] = [row for row in announcements.listing(programme) if row.kind == "announcement"]
        assert f"Announcement #{created.id} is going out now. Recipients: {CROWD}." in salma.text
        deadline = time.monotonic() + 60
        while (
            rows_of(programme, created.id)[0] < CROWD
            or announcements.get(programme, created.id).status != "sending"
        ):
            assert time.monotonic() < deadline, rows_of(programme, created.id)
            await asyncio.sleep(0.01)
        written = time.perf_counter() - confirmed
    finally:
        chatting.clear()
        await chat_task
        scheduler.shutdown()
        scheduler_db.close()

    assert rows_of(programme, created.id) == (CROWD, CROWD)  # each recipient once
    # Written on the loop, the rows held up Amina's reply for as long as they took.
    assert max(latencies) < min(1.0, written / 2), (max(latencies), written)
    assert len(latencies) >= 10, latencies  # she did write while the rows were written


async def test_a_broadcast_confirmed_in_a_chat_goes_out_and_its_coordinator_gets_the_report(
    people: Database, db_path: Path, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[bot]\ndatabase = "{db_path}"\nquiet_hours = ""\n', encoding="utf-8")
    contacts.update(people, contacts.identity(people, "telegram", "101").contact_id, language="en")
    coordinators.add(people, channel="telegram", address="101", name="Amina")
    amina = Person(Context(db=people), "101", channel="telegram")
    compose_for_now(amina)
    assert "Recipients: 3 (Telegram 2, WhatsApp 1)" in amina.text
    clock = FakeClock()
    telegram, whatsapp = FakeSender("telegram", clock), FakeSender("whatsapp", clock)
    outbox = RunningOutbox(load(config_file, environ={}), people, [telegram, whatsapp])
    await outbox.start()
    try:
        amina.presses("Confirm")
        [created] = announcements.listing(people, kinds=("announcement",))
        assert f"Announcement #{created.id} is going out now. Recipients: 3." in amina.text
        deadline = time.monotonic() + 20
        while not [
            call
            for call in telegram.calls
            if call.text.startswith(f"Announcement #{created.id} has gone out to 3 recipients.")
        ]:
            assert time.monotonic() < deadline, telegram.calls
            await asyncio.sleep(0.02)
    finally:
        await outbox.stop()
    assert sorted(telegram.addresses()) == ["101", "101", "103"]  # the last: her report
    assert whatsapp.addresses() == ["+212612345678"]
    assert announcements.get(people, created.id).status == "sent"
    [report] = announcements.listing(people, kinds=("report",))
    assert report.status == "sent"


def test_a_broadcast_cancelled_while_its_rows_are_written_gets_no_more_rows(
    programme: Database, db_path: Path
) -> None:
    seed_crowd(db_path, CROWD // 2)
    now = now_utc()
    published = broadcasts.publish(
        programme,
        texts={"*": "Bonjour"},
        audience=Audience(),
        due_at=now,
        created_by="cli:test",
        now=now,
        release_now=False,
    )
    number = published.announcement_id
    writer = threading.Thread(target=lambda: _release_on_own_connection(db_path, number))
    writer.start()
    while not rows_of(programme, number)[0]:
        time.sleep(0.001)
    assert broadcasts.cancel(programme, number, actor="cli:test", now=now_utc())
    writer.join()
    counts = deliveries.report(programme, number).counts
    assert announcements.get(programme, number).status == "cancelled"
    assert "pending" not in counts, counts  # every row written before the cancel is skipped
    assert sum(counts.values()) < CROWD // 2  # and none was written after it


def _release_on_own_connection(db_path: Path, announcement_id: int) -> None:
    db = open_database(db_path)
    try:
        release(db, announcement_id, now=now_utc(), grace=IMMEDIATE_GRACE)
    finally:
        db.close()
