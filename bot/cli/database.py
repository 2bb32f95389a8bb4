"""`formabot db migrate|backup|prune`."""

from __future__ import annotations

import getpass
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import click

from bot.channels.whatsapp.channel import SEEN_FOR
from bot.durations import parse_duration
from storage import audit
from storage import db as storage_db
from storage import prune as prune_store
from storage.zones import now_utc, to_utc_text

# The WhatsApp channel keeps the ids of messages handled this long, against Twilio's
# retries; a prune never forgets them sooner, whatever age it is given.
INBOUND_KEPT_AT_LEAST = SEEN_FOR
BACKUP_PREFIX = "formabot-"
_AGE = re.compile(r"^\d{1,4}[dh]$")


@click.group("db")
def db_group() -> None:
    """Database upkeep: migrations, online backups, pruning old delivery rows."""


@db_group.command("migrate")
@click.pass_obj
def migrate(state) -> None:
    """Apply pending schema migrations (opening the database does this too)."""
    unmigrated = storage_db.open_database(state.config.bot.database, migrate=False)
    try:
        pending = storage_db.pending_migrations(unmigrated)
    finally:
        unmigrated.close()
    _ = state.db  # opening it applies them
    if pending:
        click.echo(f"applied {len(pending)} migration(s): " + ", ".join(pending))
    else:
        click.echo("database is up to date")


@db_group.command("backup")
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    metavar="N",
    help="With a directory TARGET: keep only the N newest backups in it.",
)
@click.pass_obj
def backup(state, target: Path, keep: int | None) -> None:
    """Write a consistent copy of the database to TARGET, safe while the bot runs.

    TARGET is a new file, or an existing directory: the copy is then named
    formabot-YYYYMMDD-HHMMSS.db inside it (what the nightly timer uses). The copy is
    created 0600 (readable by its owner only) whatever the umask.
    """
    directory = target if target.is_dir() else None
    if directory is not None:
        target = directory / f"{BACKUP_PREFIX}{now_utc():%Y%m%d-%H%M%S}.db"
    elif keep is not None and not target.exists():
        raise click.ClickException(f"{target}: no such directory; create it first")
    elif keep is not None:
        raise click.UsageError("--keep needs TARGET to be a directory of backups")
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name")
    if not target.parent.is_dir():
        raise click.ClickException(f"{target.parent}: no such directory; create it first")
    try:
        storage_db.backup(state.db, target)
    except FileExistsError as error:
        raise click.ClickException(f"{target} exists; choose a new file name") from error
    except OSError as error:
        raise click.ClickException(
            f"cannot write the backup to {target}: {error.strerror}"
        ) from error
    except sqlite3.Error as error:
        raise click.ClickException(f"cannot write the backup to {target}: {error}") from error
    click.echo(f"backup written to {target}")
    if directory is not None and keep is not None:
        for old in _old_backups(directory, keep):
            old.unlink()
            click.echo(f"deleted old backup {old}")


def _old_backups(directory: Path, keep: int) -> list[Path]:
    """The backups in `directory` beyond the `keep` newest; their names sort by time."""
    backups = sorted(path for path in directory.glob(f"{BACKUP_PREFIX}*.db") if path.is_file())
    return backups[:-keep]


def _age(_context: click.Context, _parameter: click.Parameter, value: str) -> timedelta:
    if not _AGE.match(value.strip()):
        raise click.BadParameter(
            f'{value!r}: expected a number of days or hours, e.g. "180d" or "36h"'
        )
    return parse_duration(value)


@db_group.command("prune")
@click.option(
    "--older-than",
    "age",
    required=True,
    callback=_age,
    metavar="AGE",
    help="Age of the rows to delete: days or hours, e.g. 180d or 36h.",
)
@click.option("--dry-run", is_flag=True, help="Print how many rows would go; delete nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def prune(state, age: timedelta, dry_run: bool, yes: bool) -> None:
    """Delete delivery rows in a final state (sent, delivered, read, failed, skipped,
    unknown) last changed more than AGE ago, and WhatsApp message ids kept against retries.

    Pending and sending rows, and the rows of an announcement still scheduled or being
    sent, are never deleted. The announcements themselves are kept.
    """
    now = now_utc()
    before = now - age
    inbound_before = min(before, now - INBOUND_KEPT_AT_LEAST)
    database = state.db
    counted = prune_store.count(database, before=before, inbound_before=inbound_before)
    what = (
        f"{counted.deliveries} delivery row(s) in a final state last changed before"
        f" {to_utc_text(before)} and {counted.inbound_messages} WhatsApp message id(s)"
    )
    if dry_run:
        click.echo(f"would delete {what}")
    elif counted.total == 0:
        click.echo("nothing to delete")
    else:
        if not yes:
            click.confirm(f"Delete {what}?", abort=True)
        pruned = prune_store.prune(database, before=before, inbound_before=inbound_before)
        _record(database, age, before, pruned)
        click.echo(
            f"deleted {pruned.deliveries} delivery row(s) and"
            f" {pruned.inbound_messages} WhatsApp message id(s)"
        )


def _record(database, age: timedelta, before: datetime, pruned: prune_store.Pruned) -> None:
    audit.record(
        database,
        actor=f"cli:{getpass.getuser()}",
        action="db.prune",
        subject="deliveries",
        older_than=_text(age),
        before=to_utc_text(before),
        deliveries=pruned.deliveries,
        inbound_messages=pruned.inbound_messages,
    )


def _text(age: timedelta) -> str:
    hours = int(age.total_seconds()) // 3600
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


commands = [db_group]
