"""The outbox as the running bot uses it: promotion on cancel, the coordinator's final
report, stopping without half-written rows, and the schema step for report rows."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import timedelta

from outbox_fakes import NOW, FakeClock, FakeSender
from sqlite_utils import Database

from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, SendResult
from bot.outbox.running import report_to_coordinator
from handlers import Context, handle
from handlers.types import Action, Inbound
from storage import announcements, contacts, deliveries, open_database, registrations
from storage.audience import Audience
from storage.migrations import MIGRATIONS
from storage.outbox import release
from storage.zones import now_utc, to_utc_text, zone

CASA = zone("Africa/Casablanca")


def broadcast(db: Database, clock: FakeClock, created_by: str) -> int:
    announcement_id = announcements.create(
        db,
        texts={"*": "Nouvelle session de soudage\nInscriptions ouvertes"},
        audience=Audience(),
        due_at=clock.now(),
        created_by=created_by,
        now=clock.now(),
    )
    release(db, announcement_id, now=clock.now(), grace=timedelta(hours=6))
    return announcement_id


def test_cancelling_a_registration_tells_the_promoted_person(people: Database) -> None:
    context = Context(people, clock=lambda: NOW)
    amina = contacts.identity(people, "telegram", "101").contact_id
    karim = contacts.identity(people, "telegram", "103").contact_id
    registrations.register(people, amina, "tig-2026-12", 1)
    registrations.register(people, karim, "tig-2026-12", 1)
    handle(context, Inbound("telegram", "101", action=Action("can_yes", ("tig-2026-12",))))
    assert registrations.of(people, karim, "tig-2026-12").status == "registered"
    (promotion,) = [row for row in announcements.listing(people) if row.kind == "promotion"]
    assert [row.address for row in deliveries.of_announcement(people, promotion.id)] == ["103"]


async def test_the_coordinator_who_announced_from_a_chat_gets_the_final_report(
    people: Database, clock: FakeClock, telegram: FakeSender
) -> None:
    telegram.by_address["103"] = deque([SendResult.blocked("bot was blocked by the user")])
    announcement_id = broadcast(people, clock, created_by="telegram:101")
    reports: list[int | None] = []

    def finished(done: int) -> None:
        reports.append(report_to_coordinator(people, done))

    whatsapp = FakeSender("whatsapp", clock)
    for sender in (telegram, whatsapp, telegram):
        await Dispatcher(people, sender, zone=CASA, clock=clock, on_finished=finished).drain()
    assert reports[0] is not None and reports[1:] == [None]  # the report is not reported
    report = telegram.calls[-1]
    assert report.address == "101"
    assert report.text.splitlines() == [
        f"L’annonce n° {announcement_id} a été envoyée à 4 personnes.",
        "«\u00a0Nouvelle session de soudage…\u00a0»",
        "Envoyés\u00a0: 3",
        "Échecs\u00a0: 1",
        "  1 × bloqué\u00a0: bot was blocked by the user\u00a0; envoyé sur WhatsApp à la place",
    ]
    assert announcements.get(people, reports[0]).kind == "report"


def test_a_cli_broadcast_or_a_reminder_has_no_chat_to_report_to(
    people: Database, clock: FakeClock
) -> None:
    from_cli = broadcast(people, clock, created_by="cli:amina")
    assert report_to_coordinator(people, from_cli) is None
    unknown = broadcast(people, clock, created_by="telegram:999")
    assert report_to_coordinator(people, unknown) is None


async def test_stopping_leaves_rows_waiting_for_the_rate_limit_pending(
    people: Database, telegram: FakeSender
) -> None:
    for number in range(4):
        contacts.attach_identity(
            people,
            contacts.create(people, name=f"P{number}", consent_at=to_utc_text(NOW)),
            channel="telegram",
            address=f"20{number}",
        )
    announcement_id = broadcast(people, FakeClock(now_utc()), created_by="cli:amina")
    worker = Dispatcher(
        people,
        telegram,
        zone=CASA,  # the real clock: 1 request a second
        settings=DispatcherSettings(rate_per_second=1, concurrency=4),
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    while not telegram.calls:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, timeout=2)
    rows = deliveries.of_announcement(people, announcement_id)
    assert len(rows) > 2
    assert deliveries.report(people, announcement_id).counts == {
        "sent": 1,
        "pending": len(rows) - 1,
    }


def test_report_rows_are_allowed_by_the_schema_and_nothing_is_lost(tmp_path) -> None:
    db = open_database(tmp_path / "old.db", migrate=False)
    MIGRATIONS.apply(db, stop_before="0005_report_notices")
    stamp = to_utc_text(NOW)
    contact_id = contacts.create(db, name="Amina", consent_at=stamp)
    contacts.attach_identity(db, contact_id, channel="telegram", address="101")
    announcement_id = announcements.create(
        db, texts={"*": "x"}, audience=Audience(), due_at=NOW, created_by="t", now=NOW
    )
    # The row as that schema's outbox wrote it (today's audience query needs later columns).
    db["deliveries"].insert(
        {
            "announcement_id": announcement_id,
            "contact_id": contact_id,
            "channel": "telegram",
            "address": "101",
            "next_attempt_at": stamp,
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    MIGRATIONS.apply(db)
    assert len(deliveries.of_announcement(db, announcement_id)) == 1
    assert announcements.create(
        db,
        kind="report",
        texts={"*": "r"},
        audience=Audience(),
        due_at=NOW,
        created_by="t",
        now=NOW,
    )
    db.execute("DELETE FROM announcements WHERE id = ?", [announcement_id])
    assert deliveries.of_announcement(db, announcement_id) == []  # still cascades
    db.close()
