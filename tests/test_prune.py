"""`formabot db prune` and `storage.prune`: old final delivery rows go, nothing else does;
`formabot db backup DIR --keep N`, what the nightly timer runs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.cli.main import cli
from storage import announcements, audit, contacts, inbound_messages
from storage import prune as prune_store
from storage.audience import Audience
from storage.deliveries import STATUSES
from storage.zones import now_utc, to_utc_text

NOW = now_utc()
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=10)


def announcement(db: Database, status: str) -> int:
    announcement_id = announcements.create(
        db, texts={"fr": "Bonjour"}, audience=Audience(), due_at=OLD, created_by="cli:test", now=OLD
    )
    if status != "scheduled":
        announcements.set_status(db, announcement_id, status, now=OLD)
    return announcement_id


def delivery(db: Database, announcement_id: int, status: str, changed: datetime) -> int:
    """One outbox row as the dispatcher leaves it, last changed at `changed`."""
    contact_id = contacts.create(db)
    stamp = to_utc_text(changed)
    return db.execute(
        "INSERT INTO deliveries (announcement_id, contact_id, channel, address, status,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, 'telegram', ?, ?, ?, ?, ?)",
        [announcement_id, contact_id, str(contact_id), status, stamp, stamp, stamp],
    ).lastrowid


def remaining(db: Database) -> set[tuple[int, str]]:
    return {(row[0], row[1]) for row in db.execute("SELECT id, status FROM deliveries")}


@pytest.fixture
def outbox(db: Database) -> dict[str, set[tuple[int, str]]]:
    """Rows of every status, old and recent, of a finished announcement; and old finished
    rows of announcements still scheduled or being sent. Returns which should go or stay."""
    done = announcement(db, "sent")
    going, staying = set(), set()
    for status in STATUSES:
        old = delivery(db, done, status, OLD)
        (staying if status in ("pending", "sending") else going).add((old, status))
        staying.add((delivery(db, done, status, RECENT), status))
    for open_status in ("scheduled", "sending"):
        still_open = announcement(db, open_status)
        staying.add((delivery(db, still_open, "sent", OLD), "sent"))
        staying.add((delivery(db, still_open, "failed", OLD), "failed"))
    for sid, when in (("SMold", OLD), ("SMrecent", NOW - timedelta(hours=2))):
        inbound_messages.first_time(db, sid, now=when)
    return {"going": going, "staying": staying}


def test_only_final_rows_of_finished_announcements_older_than_the_cut_go(
    db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    pruned = prune_store.prune(db, before=NOW - timedelta(days=180))
    assert remaining(db) == outbox["staying"]
    assert pruned == prune_store.Pruned(deliveries=len(outbox["going"]), inbound_messages=1)
    assert {status for _, status in outbox["going"]} == set(prune_store.FINAL_STATUSES)
    assert [row[0] for row in db.execute("SELECT message_sid FROM inbound_messages")] == [
        "SMrecent"
    ]
    assert db.execute("SELECT count(*) FROM announcements").fetchone()[0] == 3


def test_prune_deletes_in_batches_and_counts_them_all(
    db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    pruned = prune_store.prune(db, before=NOW - timedelta(days=180), batch=2)
    assert pruned.deliveries == len(outbox["going"]) > 2
    assert remaining(db) == outbox["staying"]


def test_count_says_what_prune_would_delete_and_deletes_nothing(
    db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    before = NOW - timedelta(days=180)
    counted = prune_store.count(db, before=before)
    assert len(remaining(db)) == len(outbox["going"] | outbox["staying"])
    assert counted == prune_store.prune(db, before=before)
    assert prune_store.count(db, before=before) == prune_store.Pruned(0, 0)


def prune(config_file: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(config_file), "db", "prune", *args], input=input
    )


def test_prune_with_yes_deletes_and_audits(
    config_file: Path, db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    result = prune(config_file, "--older-than", "180d", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"deleted {len(outbox['going'])} delivery row(s) and 1 WhatsApp message id(s)\n"
    )
    assert remaining(db) == outbox["staying"]
    (entry,) = audit.entries(db, action="db.prune")
    assert entry.actor.startswith("cli:")
    assert entry.details["older_than"] == "180d"
    assert entry.details["deliveries"] == len(outbox["going"])
    assert entry.details["inbound_messages"] == 1


def test_dry_run_only_counts(
    config_file: Path, db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    result = prune(config_file, "--older-than", "4320h", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"would delete {len(outbox['going'])} delivery row(s) in a final state last changed before "
    )
    assert remaining(db) == outbox["going"] | outbox["staying"]
    assert audit.entries(db, action="db.prune") == []


def test_prune_asks_first(
    config_file: Path, db: Database, outbox: dict[str, set[tuple[int, str]]]
) -> None:
    refused = prune(config_file, "--older-than", "180d", input="n\n")
    assert refused.exit_code == 1
    assert f"Delete {len(outbox['going'])} delivery row(s)" in refused.output
    assert "Aborted" in refused.output
    assert remaining(db) == outbox["going"] | outbox["staying"]
    accepted = prune(config_file, "--older-than", "180d", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert remaining(db) == outbox["staying"]


def test_message_ids_are_kept_three_days_whatever_the_age_asked(
    config_file: Path, db: Database
) -> None:
    inbound_messages.first_time(db, "SMhour", now=NOW - timedelta(hours=5))
    inbound_messages.first_time(db, "SMweek", now=NOW - timedelta(days=7))
    result = prune(config_file, "--older-than", "1h", "--yes")
    assert result.exit_code == 0, result.output
    assert [row[0] for row in db.execute("SELECT message_sid FROM inbound_messages")] == ["SMhour"]


def test_nothing_to_delete_says_so(config_file: Path, db: Database) -> None:
    result = prune(config_file, "--older-than", "180d")
    assert (result.exit_code, result.output) == (0, "nothing to delete\n")


@pytest.mark.parametrize("age", ["180", "30m", "2w", "-5d", "many days"])
def test_an_age_that_is_not_days_or_hours_is_refused(config_file: Path, age: str) -> None:
    result = prune(config_file, "--older-than", age, "--yes")
    assert result.exit_code == 2
    assert "expected a number of days or hours" in result.output
    assert "Traceback" not in result.output


def test_the_age_is_required(config_file: Path) -> None:
    result = prune(config_file, "--yes")
    assert result.exit_code == 2 and "--older-than" in result.output


# --- backups into a directory, as the nightly timer makes them --------------------------------


def backup(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config_file), "db", "backup", *args])


def test_backup_into_a_directory_keeps_the_newest(
    config_file: Path, db: Database, tmp_path: Path
) -> None:
    directory = tmp_path / "backups"
    directory.mkdir()
    for stamp in ("20250101-020000", "20250102-020000", "20250103-020000"):
        (directory / f"formabot-{stamp}.db").write_bytes(b"")
    (directory / "notes.txt").write_text("kept", encoding="utf-8")
    result = backup(config_file, str(directory), "--keep", "2")
    assert result.exit_code == 0, result.output
    backups = sorted(path.name for path in directory.glob("formabot-*.db"))
    assert len(backups) == 2 and backups[0] == "formabot-20250103-020000.db"
    assert re.fullmatch(r"formabot-\d{8}-\d{6}\.db", backups[1])
    assert (directory / "notes.txt").exists()
    made = directory / backups[1]
    copy = Database(made)
    assert "contacts" in copy.table_names()
    copy.close()
    assert f"backup written to {made}" in result.output
    assert "deleted old backup" in result.output


def test_keep_needs_a_directory(config_file: Path, tmp_path: Path) -> None:
    (tmp_path / "one.db").write_bytes(b"")
    result = backup(config_file, str(tmp_path / "one.db"), "--keep", "3")
    assert result.exit_code == 2 and "--keep needs TARGET to be a directory" in result.output
    missing = backup(config_file, str(tmp_path / "backups"), "--keep", "3")
    assert missing.exit_code == 1
    assert f"{tmp_path / 'backups'}: no such directory; create it first" in missing.output
    assert not (tmp_path / "backups").exists()


def test_backup_into_a_missing_directory_is_refused(config_file: Path, tmp_path: Path) -> None:
    result = backup(config_file, str(tmp_path / "nowhere" / "copy.db"))
    assert result.exit_code == 1
    assert "no such directory; create it first" in result.output
