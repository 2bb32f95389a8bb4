"""`formabot db migrate|backup`."""

from __future__ import annotations

from pathlib import Path

import click

from storage import db as storage_db


@click.group("db")
def db_group() -> None:
    """Database upkeep: migrations and online backups."""


@db_group.command("migrate")
@click.pass_obj
def migrate(state) -> None:
    """Apply pending schema migrations (opening the database does this too)."""
    database = storage_db.open_database(state.config.bot.database, migrate=False)
    pending = storage_db.pending_migrations(database)
    storage_db.open_database(state.config.bot.database)
    if pending:
        click.echo(f"applied {len(pending)} migration(s): " + ", ".join(pending))
    else:
        click.echo("database is up to date")


@db_group.command("backup")
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def backup(state, target: Path) -> None:
    """Write a consistent copy of the database to TARGET, safe while the bot runs."""
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name")
    database = storage_db.open_database(state.config.bot.database)
    storage_db.backup(database, target)
    click.echo(f"backup written to {target}")


commands = [db_group]
