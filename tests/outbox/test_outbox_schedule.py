"""Reminders, the scheduler's rebuild and the misfire rule, attendance, coordinators, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from outbox_fakes import NOW, FakeClock, add_contact
from sqlite_utils import Database

from bot.cli.main import cli
from bot.outbox.scheduler import OutboxScheduler, ScheduleSettings
from handlers import Context, Inbound
from handlers.coordination import refusal
from storage import (
    announcements,
    audit,
    broadcasts,
    catalogue,
    contacts,
    deliveries,
    registrations,
)
from storage.audience import Audience
from storage.outbox import IMMEDIATE_GRACE, release

OFFSETS = {"7d": timedelta(days=7), "1d": timedelta(days=1), "2h": timedelta(hours=2)}


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduler(db: Database, db_path: Path, clock: FakeClock) -> OutboxScheduler:
    return OutboxScheduler(
        db, str(db_path), clock=clock, settings=ScheduleSettings(reminder_offsets=OFFSETS)
    )


def session_rows(db: Database, session_id: str) -> dict[str, tuple[str, datetime, str]]:
    return {
        row.offset_key: (row.kind, row.due_at, row.status)
        for row in announcements.listing(db)
        if row.session_id == session_id
    }


async def test_reminders_at_the_right_utc_instants_for_casablanca(
    programme, db_path, clock
) -> None:
    outbox = scheduler(programme, db_path, clock)
    report = outbox.start()
    try:
        rows = session_rows(programme, "tig-2026-12")
        assert rows == {
            "7d": ("reminder", z("2026-12-03T10:00"), "scheduled"),
            "1d": ("confirm_request", z("2026-12-09T10:00"), "scheduled"),
            "2h": ("reminder", z("2026-12-10T08:00"), "scheduled"),
        }
        assert "reminder-tig-2026-12-2h" in report.scheduled
        assert outbox.scheduler.get_job("reminder-tig-2026-12-2h").trigger.run_date == z(
            "2026-12-10T08:00"
        )
    finally:
        outbox.shutdown()


async def test_a_moved_session_gets_its_reminders_recomputed(programme, db_path, clock) -> None:
    outbox = scheduler(programme, db_path, clock)
    outbox.rebuild()
    session = catalogue.session(programme, "tig-2026-12")
    catalogue.upsert_session(
        programme,
        id=session.id,
        titles=session.titles,
        topics=list(session.topics),
        starts_at=session.starts_at + timedelta(days=1),
        ends_at=session.ends_at + timedelta(days=1),
        timezone=session.timezone,
        place=session.place,
        capacity=session.capacity,
    )
    outbox.rebuild()
    assert session_rows(programme, "tig-2026-12")["2h"][1] == z("2026-12-11T08:00")
    assert outbox.scheduler.get_job("reminder-tig-2026-12-2h").trigger.run_date == z(
        "2026-12-11T08:00"
    )


async def test_a_cancelled_session_sends_a_notice_instead_of_reminders(
    programme, db_path, clock
) -> None:
    amina = add_contact(programme, "Amina", telegram="101")
    registrations.register(programme, amina, "tig-2026-12", 1)
    outbox = scheduler(programme, db_path, clock)
    outbox.rebuild()
    session = catalogue.session(programme, "tig-2026-12")
    catalogue.upsert_session(
        programme,
        id=session.id,
        titles=session.titles,
        topics=[],
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=session.timezone,
        place="",
        capacity=1,
        status="cancelled",
    )
    outbox.rebuild()
    rows = session_rows(programme, "tig-2026-12")
    assert {key: status for key, (_, _, status) in rows.items()} == {
        "7d": "cancelled",
        "1d": "cancelled",
        "2h": "cancelled",
        "cancel": "sending",
    }
    notice = next(row for row in announcements.listing(programme) if row.kind == "cancellation")
    assert [d.address for d in deliveries.of_announcement(programme, notice.id)] == ["101"]


def announce_at(db: Database, due_at: datetime) -> int:
    return announcements.create(
        db, texts={"*": "Hello"}, audience=Audience(), due_at=due_at, created_by="cli:test", now=NOW
    )


async def test_schedule_cancel_and_restart_rebuild_jobs_once(programme, db_path, clock) -> None:
    first = announce_at(programme, NOW + timedelta(days=2))
    second = announce_at(programme, NOW + timedelta(days=3))
    outbox = scheduler(programme, db_path, clock)
    outbox.start()
    outbox.start()
    outbox.rebuild()
    ids = [job.id for job in outbox.scheduler.get_jobs() if job.id.startswith("announcement")]
    assert sorted(ids) == [f"announcement-{first}", f"announcement-{second}"]
    broadcasts.cancel(programme, second, actor="test", now=NOW)
    outbox.rebuild()
    assert outbox.scheduler.get_job(f"announcement-{second}") is None
    outbox.shutdown()
    restarted = scheduler(programme, db_path, clock)  # a restart: same database, new process
    restarted.start()
    try:
        ids = [
            job.id for job in restarted.scheduler.get_jobs() if job.id.startswith("announcement")
        ]
        assert ids == [f"announcement-{first}"]
    finally:
        restarted.shutdown()


def test_misfire_within_grace_is_sent_at_start_and_beyond_is_missed(people, db_path) -> None:
    late = announce_at(people, NOW - timedelta(hours=5))
    too_late = announce_at(people, NOW - timedelta(hours=7))
    report = scheduler(people, db_path, FakeClock()).rebuild()
    outcomes = {item.announcement_id: item.outcome for item in report.released}
    assert outcomes == {late: "enqueued", too_late: "missed"}
    assert len(deliveries.of_announcement(people, late)) == 3
    assert deliveries.of_announcement(people, too_late) == []
    missed = announcements.get(people, too_late)
    assert missed.status == "missed" and "7.0 h late" in missed.note
    assert audit.entries(people, action="announcement.missed")[0].subject == (
        f"announcement:{too_late}"
    )


def test_a_reminder_whose_session_started_is_dropped(people, db_path) -> None:
    scheduler(people, db_path, FakeClock()).rebuild()
    after_start = FakeClock(z("2026-12-10T10:30"))
    report = scheduler(people, db_path, after_start).rebuild()
    tig = [
        item
        for item in report.released
        if announcements.get(people, item.announcement_id).session_id == "tig-2026-12"
    ]
    assert {item.outcome for item in tig} == {"dropped"}


def test_decline_frees_the_seat_and_the_first_waitlisted_is_told(people) -> None:
    context = Context(people, clock=lambda: NOW)
    amina = contacts.identity(people, "telegram", "101").contact_id
    karim = contacts.identity(people, "telegram", "103").contact_id
    registrations.register(people, amina, "tig-2026-12", 1)
    assert registrations.register(people, karim, "tig-2026-12", 1).status == "waitlisted"
    from handlers import handle

    replies = handle(context, Inbound("telegram", "101", action=_action("att_yes")))
    assert "confirm" in replies[0].text.lower()
    assert registrations.of(people, amina, "tig-2026-12").status == "confirmed"
    handle(context, Inbound("telegram", "101", action=_action("att_no")))
    assert registrations.of(people, amina, "tig-2026-12").status == "declined"
    assert registrations.of(people, karim, "tig-2026-12").status == "registered"
    promotion = next(row for row in announcements.listing(people) if row.kind == "promotion")
    assert [d.address for d in deliveries.of_announcement(people, promotion.id)] == ["103"]


def _action(name: str):
    from handlers.types import Action

    return Action(name, ("tig-2026-12",))


def test_non_coordinator_is_refused_and_coordinator_passes(people) -> None:
    from storage import coordinators

    context = Context(people)
    inbound = Inbound("telegram", "101", command="announce")
    amina = contacts.get(people, contacts.identity(people, "telegram", "101").contact_id)
    replies = refusal(context, inbound, amina, "announce")
    assert replies and "coordinat" in replies[0].text
    assert audit.entries(people, action="coordination.refused")[0].actor == "telegram:101"
    coordinators.add(people, channel="telegram", address="101")
    assert refusal(context, inbound, amina, "announce") is None


def test_cli_announce_report_roster_and_coordinators(people, db_path, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase = "{db_path}"\n', encoding="utf-8")
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--config", str(config), *args], input=input)

    refused = run("announce", "--topic", "soudage", "--text", "Bonjour", input="n\n")
    assert refused.exit_code == 1 and "Recipients: 2 (telegram 1, whatsapp 1)" in refused.output
    done = run("announce", "--topic", "soudage", "--text", "Bonjour", "--yes")
    assert done.exit_code == 0, done.output
    announcement_id = int(done.output.strip().splitlines()[-1])
    later = run(
        "announce", "--everyone", "--text", "Plus tard", "--at", "2027-01-05 09:00", "--yes"
    )
    assert later.exit_code == 0, later.output
    assert "scheduled" in run("announcements", "list").output
    report = json.loads(run("report", str(announcement_id), "--json").output)
    assert report["counts"] == {"pending": 2}
    assert run("announcements", "cancel", later.output.split()[-1]).exit_code == 0
    assert run("coordinators", "add", "--whatsapp", "0612345678", "--name", "Salma").exit_code == 0
    assert "+212612345678" in run("coordinators", "list").output
    registrations.register(
        people, contacts.identity(people, "telegram", "101").contact_id, "tig-2026-12", 1
    )
    roster = run("roster", "tig-2026-12", "--csv")
    assert roster.output.splitlines()[0].startswith("\ufeffNom;Entreprise;Fonction")
    assert "Amina" in roster.output
    actions = {entry.action for entry in audit.entries(people)}
    assert {
        "announcement.create",
        "announcement.cancel",
        "coordinator.add",
        "session.roster",
        "announcement.report",
    } <= actions


def test_an_announcement_being_released_elsewhere_is_not_released_twice(
    people: Database, clock: FakeClock
) -> None:
    """`formabot announce` writes the rows while the bot's scheduler finds the announcement
    due: the scheduler leaves it to the process holding the claim, until that claim lapses
    (a process that died mid-release), then resumes it."""
    announcement_id = announcements.create(
        people,
        texts={"*": "Bonjour"},
        audience=Audience(),
        due_at=clock.now(),
        created_by="cli:amina",
        now=clock.now(),
    )
    assert announcements.claim_release(people, announcement_id, now=clock.now())  # the CLI
    assert announcements.due(people, now=clock.now()) == []
    meanwhile = release(people, announcement_id, now=clock.now(), grace=IMMEDIATE_GRACE)
    assert (meanwhile.outcome, meanwhile.rows) == ("releasing", 0)
    assert deliveries.of_announcement(people, announcement_id) == []

    later = clock.now() + announcements.RELEASE_LEASE + timedelta(seconds=1)  # the CLI died
    assert [row.id for row in announcements.due(people, now=later)] == [announcement_id]
    resumed = release(people, announcement_id, now=later, grace=timedelta(hours=6))
    assert resumed.outcome == "enqueued" and resumed.rows > 0
    assert announcements.get(people, announcement_id).status == "sending"
    assert announcements.claim_release(people, announcement_id, now=later)  # released it
