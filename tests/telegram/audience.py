"""A broadcast audience for the outbox tests on Telegram: people who consented, each with
a chat open with the bot on the fake server, and a config with test-sized timings."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from storage import broadcasts, contacts
from storage.audience import Audience
from storage.zones import now_utc, to_utc_text
from tests.fakes.bot_api import FakeBotAPI, User
from tests.telegram.support import free_port


def recipients(count: int, first_id: int = 70_000) -> list[User]:
    return [User(first_id + n, f"R{n}") for n in range(count)]


def enrol(db: Database, bot_api: FakeBotAPI, people: list[User]) -> None:
    """Each person consented (French) and has a Telegram identity and an open chat."""
    stamp = to_utc_text(now_utc())
    with db.atomic():
        for person in people:
            contact_id = contacts.create(
                db,
                name=person.first_name,
                language="fr",
                consent_at=stamp,
                state={"welcomed": True, "topics_chosen": True},
            )
            contacts.attach_identity(db, contact_id, channel="telegram", address=str(person.id))
    for person in people:
        bot_api.meet(person)


def announce(
    db: Database,
    text: str = "Nouvelle session : soudage TIG <niveau 1> & 2",
    *,
    created_by: str = "cli:test",
) -> int:
    """A broadcast to everyone, due now: its delivery rows are written at once."""
    now = now_utc()
    return broadcasts.publish(
        db, texts={"*": text}, audience=Audience(), due_at=now, created_by=created_by, now=now
    ).announcement_id


def outbox_config(
    directory: Path, bot_api: FakeBotAPI, *, telegram: str = "", dispatcher: str = ""
) -> Path:
    """No quiet hours (a test may run at night) and the fake as Telegram."""
    path = directory / "config.toml"
    path.write_text(
        f"""
[bot]
database = "formabot.db"
quiet_hours = ""

[web]
port = {free_port()}

[telegram]
base_url = "{bot_api.base_url}"
base_file_url = "{bot_api.base_file_url}"
{telegram}

[dispatcher]
{dispatcher}
""",
        encoding="utf-8",
    )
    return path
