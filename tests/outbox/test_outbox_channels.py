"""Only the channels a deployment serves get notifications, and an announcement released twice
still gives each person one copy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from outbox_fakes import NOW, FakeClock, FakeSender
from sqlite_utils import Database

from bot.config import load
from bot.context import build_context
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.running import schedule_settings
from storage import announcements, broadcasts, contacts, deliveries
from storage.audience import Audience
from storage.outbox import release
from storage.zones import zone

GRACE = timedelta(hours=6)


def announce(db: Database) -> int:
    return announcements.create(
        db,
        texts={"*": "Nouvelle session"},
        audience=Audience(),
        due_at=NOW,
        created_by="test",
        now=NOW,
    )


def rows(db: Database, announcement_id: int) -> list[tuple[int, str, str]]:
    return sorted(
        (row.contact_id, row.channel, row.status)
        for row in deliveries.of_announcement(db, announcement_id)
    )


def test_a_telegram_only_deployment_notifies_on_telegram_only(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndatabase = "{tmp_path / "f.db"}"\n', encoding="utf-8")
    config = load(path, environ={"FORMABOT_TELEGRAM_TOKEN": "1:abc"})
    assert config.served_channels == ("telegram",)
    assert schedule_settings(config).channels == ("telegram",)
    context = build_context(config)
    try:
        assert context.channels == ("telegram",)
    finally:
        context.db.close()
    both = load(
        path,
        environ={
            "FORMABOT_TELEGRAM_TOKEN": "1:abc",
            "FORMABOT_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "FORMABOT_TWILIO_AUTH_TOKEN": "x",
        },
    )
    assert both.served_channels == ("telegram", "whatsapp")


def test_release_on_one_channel_leaves_out_those_only_on_the_other(people: Database) -> None:
    announcement_id = announce(people)
    release(people, announcement_id, now=NOW, grace=GRACE, channels=("telegram",))
    assert {channel for _, channel, _ in rows(people, announcement_id)} == {"telegram"}
    youssef = contacts.identity(people, "whatsapp", "+212612345678")
    assert youssef is not None
    assert youssef.contact_id not in {contact for contact, _, _ in rows(people, announcement_id)}


def test_rows_on_a_channel_not_served_move_or_are_skipped_with_the_reason(people: Database) -> None:
    announcement_id = announce(people)
    release(people, announcement_id, now=NOW, grace=GRACE)  # a CLI that knew no better
    contacts.resolve(people, channel="whatsapp", address="+212612345679")  # last used
    whatsapp_rows = [
        row
        for row in deliveries.of_announcement(people, announcement_id)
        if row.channel == "whatsapp"
    ]
    assert whatsapp_rows
    settled = deliveries.settle_unserved(people, served=("telegram",), now=NOW)
    assert settled == len(whatsapp_rows)
    reasons = {
        row.contact_id: row.reason
        for row in deliveries.of_announcement(people, announcement_id)
        if row.channel == "whatsapp"
    }
    assert all(
        reason.startswith("whatsapp is not served by this deployment")
        for reason in reasons.values()
    )
    statuses = {
        (contact, channel): status for contact, channel, status in rows(people, announcement_id)
    }
    assert all(
        status != "pending" for (_, channel), status in statuses.items() if channel == "whatsapp"
    )
    assert deliveries.settle_unserved(people, served=("telegram", "whatsapp"), now=NOW) == 0


def test_released_twice_with_a_channel_change_between_one_copy_each(people: Database) -> None:
    announcement_id = announce(people)
    release(people, announcement_id, now=NOW, grace=GRACE)
    first = rows(people, announcement_id)
    # Karim writes on WhatsApp: his last used channel changes before the second release.
    contacts.resolve(people, channel="whatsapp", address="+212612345679")
    release(people, announcement_id, now=NOW, grace=GRACE)
    assert rows(people, announcement_id) == first
    per_contact = [contact for contact, _, _ in rows(people, announcement_id)]
    assert len(per_contact) == len(set(per_contact))


async def test_rows_of_a_cancelled_announcement_taken_late_are_skipped(people: Database) -> None:
    announcement_id = announce(people)
    release(people, announcement_id, now=NOW, grace=GRACE)
    # Cancelled, but its pending rows not skipped yet (the batches were still running).
    announcements.set_status(
        people, announcement_id, "cancelled", now=NOW, note="cancelled", only_from=("sending",)
    )
    clock = FakeClock()
    telegram = FakeSender("telegram", clock)
    dispatcher = Dispatcher(people, telegram, zone=zone("Africa/Casablanca"), clock=clock)
    await dispatcher.drain()
    assert telegram.calls == []
    assert {
        row.reason
        for row in deliveries.of_announcement(people, announcement_id)
        if row.channel == "telegram"
    } == {"cancelled"}


def test_a_cancelled_announcement_is_not_rerouted(people: Database) -> None:
    announcement_id = announce(people)
    release(people, announcement_id, now=NOW, grace=GRACE)
    assert broadcasts.cancel(people, announcement_id, actor="test", now=NOW)
    row = deliveries.of_announcement(people, announcement_id)[0]
    assert deliveries.reroute(people, row, channels=("telegram", "whatsapp"), now=NOW) is None
