"""`formabot catalogue|companies|contacts import`, `formabot contacts unmatched|match` and
`formabot sessions list|show`.

Thin over `bot.cli.imports` and `storage`: each command opens the database, calls one importer or
query, and turns `FileProblem` / `ImportFailed` into an operator message and a non-zero exit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bot.cli.deep_links import link_command
from bot.cli.imports import FileProblem, ImportFailed, import_catalogue, import_companies
from bot.cli.imports import import_contacts as import_contact_list
from bot.oneline import one_line
from handlers.phones import DEFAULT_REGION, known_region
from storage import catalogue, companies, contacts, registrations
from storage.catalogue import Session
from storage.zones import now_utc, to_utc_text, zone

FILE = click.argument("file", type=click.Path(path_type=Path))
TITLE_WIDTH = 40


@contextmanager
def _reported() -> Iterator[None]:
    """Importer errors as the operator should see them: every bad row, then one verdict."""
    try:
        yield
    except FileProblem as error:
        raise click.ClickException(str(error)) from error
    except ImportFailed as failure:
        for row_error in failure.errors:
            click.echo(str(row_error), err=True)
        count = len(failure.errors)
        raise click.ClickException(
            f"{count} error{'s' if count != 1 else ''} in {failure.source}: nothing was imported"
        ) from failure
    except sqlite3.Error as error:  # the transaction was rolled back
        raise click.ClickException(f"database error ({error}): nothing was imported") from error


# --- imports ------------------------------------------------------------------------------


@click.group("catalogue")
def catalog_group() -> None:
    """The training catalogue: topics and sessions."""


@catalog_group.command("import")
@FILE
@click.pass_obj
def catalog_import(state: Any, file: Path) -> None:
    """Add or update topics and sessions from FILE (.toml or .csv); all or nothing."""
    db = state.db
    with _reported():
        summary = import_catalogue(db, file, default_zone=state.config.bot.timezone)
    click.echo(str(summary))


@click.group("companies")
def companies_group() -> None:
    """The federation's member companies."""


@companies_group.command("import")
@FILE
@click.pass_obj
def companies_import(state: Any, file: Path) -> None:
    """Add or update member companies from FILE.csv (member_id,name,city,sector)."""
    db = state.db
    with _reported():
        summary = import_companies(db, file)
    click.echo(str(summary))


@click.group("contacts")
def contacts_group() -> None:
    """Contacts of member companies."""


def _region(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    if not known_region(value):
        raise click.BadParameter(f"{value!r} is not a two-letter region code such as MA or FR")
    return value.upper()


@contacts_group.command("import")
@FILE
@click.option(
    "--region",
    default=DEFAULT_REGION,
    show_default=True,
    callback=_region,
    help="Country of numbers written without an international prefix (06…, 07…).",
)
@click.pass_obj
def contacts_import(state: Any, file: Path, region: str) -> None:
    """Add or update consenting contacts from FILE.csv, with their topics and WhatsApp number."""
    db = state.db
    with _reported():
        summary = import_contact_list(
            db, file, default_zone=state.config.bot.timezone, region=region
        )
    click.echo(str(summary))


@contacts_group.command("unmatched")
@click.pass_obj
def contacts_unmatched(state: Any) -> None:
    """Contacts who chose "My company is not listed", with the name they typed."""
    db = state.db
    rows = contacts.unmatched_companies(db)
    if not rows:
        click.echo("every contact's company is a member company")
        return
    for row in rows:
        click.echo(
            one_line(
                f"{row.contact_id}  {row.created_at}  {row.name or '-'}"
                f"  typed: {row.typed}  {row.phone or ''}"
            ).rstrip()
        )
    click.echo("match one with: formabot contacts match CONTACT_ID MEMBER_ID")


@contacts_group.command("match")
@click.argument("contact_id", type=int)
@click.argument("member_id")
@click.pass_obj
def contacts_match(state: Any, contact_id: int, member_id: str) -> None:
    """Attach contact CONTACT_ID (from `contacts unmatched`) to member company MEMBER_ID."""
    db = state.db
    company = companies.by_member_id(db, member_id)
    if company is None:
        raise click.ClickException(
            f"no member company {one_line(member_id)!r}; import it"
            " first with: formabot companies import FILE"
        )
    typed = contacts.match_company(db, contact_id, company.id, actor="cli")
    if typed is None:
        raise click.ClickException(f"no contact {contact_id}; see: formabot contacts unmatched")
    click.echo(one_line(f"contact {contact_id} ({typed!r}) now works for {company.name}"))


# --- sessions -----------------------------------------------------------------------------


@click.group("sessions")
def sessions_group() -> None:
    """Training sessions of the catalogue."""


def _title(session: Session, language: str) -> str:
    for choice in (language, "fr", "en", "ar"):
        if session.titles.get(choice):
            return session.titles[choice]
    return ""


def _local(session: Session, moment_name: str = "starts_at") -> str:
    moment = getattr(session, moment_name)
    return moment.astimezone(zone(session.timezone)).strftime("%Y-%m-%d %H:%M")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@sessions_group.command("list")
@click.option("--upcoming", is_flag=True, help="Only sessions that have not started yet.")
@click.pass_obj
def sessions_list(state: Any, upcoming: bool) -> None:
    """Every session: id, local start, title, seats taken/capacity, status."""
    bot_zone, language = state.config.bot.timezone, state.config.bot.default_language
    db = state.db
    sessions = catalogue.all_sessions(db)
    if upcoming:
        sessions = [session for session in sessions if session.starts_at > now_utc()]
    rows = [
        (
            session.id,
            _local(session) + ("" if session.timezone == bot_zone else f" {session.timezone}"),
            _clip(_title(session, language), TITLE_WIDTH),
            f"{registrations.seats_taken(db, session.id)}/{session.capacity}",
            session.status,
        )
        for session in sessions
    ]
    if not rows:
        click.echo("no sessions; add some with: formabot catalogue import FILE")
        return
    header = ("ID", f"STARTS ({bot_zone})", "TITLE", "SEATS", "STATUS")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(5)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@sessions_group.command("show")
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable, times in UTC.")
@click.pass_obj
def sessions_show(state: Any, session_id: str, as_json: bool) -> None:
    """One session in full; --json gives times in UTC (2026-12-10T10:00:00Z)."""
    db = state.db
    session = catalogue.session(db, session_id)
    if session is None:
        raise click.ClickException(
            f'no session with id "{session_id}"; see: formabot sessions list'
        )
    taken = registrations.seats_taken(db, session.id)
    if as_json:
        click.echo(json.dumps(_as_json(session, taken), ensure_ascii=False, indent=2))
        return
    lines = {
        "id": session.id,
        "titles": "; ".join(f"{lang}: {text}" for lang, text in session.titles.items()),
        "topics": " ".join(session.topics),
        "starts": f"{_local(session)} {session.timezone} ({to_utc_text(session.starts_at)})",
        "ends": f"{_local(session, 'ends_at')} {session.timezone} ({to_utc_text(session.ends_at)})",
        "place": session.place,
        "seats": f"{taken} taken of {session.capacity}",
        "status": session.status,
    }
    for key, value in lines.items():
        click.echo(f"{key:<8}{value}")


def _as_json(session: Session, seats_taken: int) -> dict[str, Any]:
    return {
        "id": session.id,
        "titles": session.titles,
        "topics": list(session.topics),
        "starts": to_utc_text(session.starts_at),
        "ends": to_utc_text(session.ends_at),
        "timezone": session.timezone,
        "place": session.place,
        "capacity": session.capacity,
        "seats_taken": seats_taken,
        "status": session.status,
    }


sessions_group.add_command(link_command)

commands = [catalog_group, companies_group, contacts_group, sessions_group]
