"""Coordinators' commands: announce, list/cancel, report, roster, and who coordinates.

Thin over `storage`: each command opens the database, calls the library and records what it
did in the audit log under the operator's name (`cli:<user>`).
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path

import click

from bot.cli import announce_wait
from bot.context import notification_channels
from bot.oneline import one_line
from bot.outbox.dispatcher import QuietHours
from handlers.i18n import LANGUAGES
from handlers.phones import InvalidPhone, normalize_phone
from handlers.roster import document as roster_document
from storage import (
    announcements,
    audit,
    broadcasts,
    catalogue,
    coordinators,
    deliveries,
    private_files,
    rosters,
)
from storage.audience import Audience, preview
from storage.contacts import ROLES
from storage.zones import from_utc_text, now_utc, parse_local, zone


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _local(state, moment: datetime) -> str:
    return moment.astimezone(zone(state.config.bot.timezone)).strftime("%Y-%m-%d %H:%M")


@click.command("announce")
@click.option("--topic", "topics", multiple=True, help="Contacts following this topic (slug).")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="Contacts' role.")
@click.option("--city", "cities", multiple=True, help="City of the contact's company.")
@click.option("--company", "companies", multiple=True, help="Member id of the company.")
@click.option("--registrants", help="Registrants of this session (id).")
@click.option("--everyone", is_flag=True, help="Every contact who accepts notifications.")
@click.option("--text", required=True, help="The message (French, and every language not given).")
@click.option("--text-ar", help="The message in Arabic.")
@click.option("--text-en", help="The message in English.")
@click.option("--session", "session_id", help="Session the announcement is about (adds its card).")
@click.option(
    "--at",
    "at",
    help='Local date and time, e.g. "2026-12-09 09:00" or'
    ' "09/12/2026 9h" (day first; default now).',
)
@click.option("--urgent", is_flag=True, help="Send even during quiet hours.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--wait",
    is_flag=True,
    help="Show progress until the running bot has sent it, then the final report.",
)
@click.pass_obj
def announce(
    state,
    topics,
    roles,
    cities,
    companies,
    registrants,
    everyone,
    text,
    text_ar,
    text_en,
    session_id,
    at,
    urgent,
    yes,
    wait,
) -> None:
    """Send an announcement now or at a set time, after a preview; prints its id last
    (with --wait, its final report after the id)."""
    db = state.db
    audience = Audience(
        topics=tuple(topics),
        roles=tuple(roles),
        cities=tuple(cities),
        companies=tuple(companies),
        registrants=registrants,
    )
    if audience.is_everyone and not everyone:
        raise click.UsageError(
            "choose an audience (--topic, --role, --city, --company, --registrants) or --everyone"
        )
    for slug in topics:
        if catalogue.topic(db, slug) is None:
            raise click.ClickException(f"unknown topic {slug!r}")
    for sid in filter(None, (session_id, registrants)):
        if catalogue.session(db, sid) is None:
            raise click.ClickException(f"unknown session {sid!r}")
    now = now_utc()
    due_at = now
    if at:
        try:
            due_at = parse_local(at, state.config.bot.timezone)
        except ValueError as error:
            raise click.BadParameter(
                f"{at!r}: expected a local date and time, day first, such as"
                ' "2026-12-09 09:00", "09/12/2026 09:00" or "9/12/26 9h"',
                param_hint="--at",
            ) from error
        if due_at <= now:
            raise click.BadParameter("this time has passed", param_hint="--at")
    channels = notification_channels(state.config)
    counts = preview(db, audience, channels=channels)
    total = sum(counts.values())
    click.echo(f"Audience: {audience.describe()}")
    click.echo(
        f"Recipients: {total} ("
        + ", ".join(f"{channel} {number}" for channel, number in counts.items())
        + ")"
    )
    click.echo(f"When: {'now' if not at else _local(state, due_at) + ' local'}")
    quiet = QuietHours.parse(state.config.bot.quiet_hours, zone(state.config.bot.timezone))
    held = None if urgent or quiet is None else quiet.ends_at(due_at)
    if held is not None and quiet is not None:
        click.echo(
            f"Within quiet hours ({quiet.describe()} local): it goes out at"
            f" {_local(state, held)} local; --urgent sends it at its time."
        )
    click.echo(f"Text: {text}")
    if total == 0:
        raise click.ClickException("no contact matches this audience; nothing was created")
    if not yes and not click.confirm("Send it?", default=False):
        raise click.ClickException("cancelled; nothing was created")
    texts = {
        "*": text,
        **{language: value for language, value in (("ar", text_ar), ("en", text_en)) if value},
    }
    published = broadcasts.publish(
        db,
        texts=texts,
        audience=audience,
        due_at=due_at,
        created_by=_actor(),
        now=now,
        session_id=session_id,
        urgent=urgent,
        channels=channels,
        default_language=state.config.bot.default_language,
    )
    if published.release is not None and published.release.outcome == "releasing":
        click.echo("The running bot is queueing its deliveries and sends them.")
    elif published.release is not None:
        click.echo(f"Queued {published.release.rows} deliveries; the running bot sends them.")
    else:
        click.echo("Scheduled; the running bot sends it at that time.")
    click.echo(published.announcement_id)
    if wait:
        report = announce_wait.wait_for(
            db, published.announcement_id, local=lambda moment: _local(state, moment)
        )
        announce_wait.echo_report(db, published.announcement_id, report)


@click.group("announcements")
def announcements_group() -> None:
    """Scheduled and past announcements."""


@announcements_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Include reminders and notices.")
@click.pass_obj
def list_announcements(state, everything: bool) -> None:
    """Announcements, latest first, with their status."""
    db = state.db
    kinds = announcements.KINDS if everything else ("announcement",)
    for row in announcements.listing(db, kinds=kinds):
        click.echo(
            f"{row.id:>5}  {row.status:<9}  {_local(state, row.due_at)}  {row.kind:<15}"
            f"  {row.audience.describe()}  {row.note}".rstrip()
        )


@announcements_group.command("cancel")
@click.argument("announcement_id", type=int)
@click.pass_obj
def cancel_announcement(state, announcement_id: int) -> None:
    """Cancel a scheduled announcement (or stop one being sent)."""
    db = state.db
    if not broadcasts.cancel(db, announcement_id, actor=_actor(), now=now_utc()):
        raise click.ClickException(f"announcement {announcement_id} is not scheduled or sending")
    click.echo(f"announcement {announcement_id} cancelled")


@click.command("report")
@click.argument("announcement_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@click.pass_obj
def report(state, announcement_id: int, as_json: bool) -> None:
    """Delivery report: sent, delivered, failed, skipped and unknown, with reasons."""
    db = state.db
    announcement = announcements.get(db, announcement_id)
    if announcement is None:
        raise click.ClickException(f"no announcement {announcement_id}")
    result = broadcasts.report(db, announcement_id, actor=_actor())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": announcement_id,
                    "status": announcement.status,
                    "note": announcement.note,
                    "total": result.total,
                    "counts": result.counts,
                    "reasons": result.reasons,
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        f"Announcement {announcement_id}: {announcement.status} {announcement.note}".rstrip()
    )
    for status in deliveries.STATUSES:
        if result.counts.get(status):
            click.echo(f"  {status}: {result.counts[status]}")
            for reason, number in result.reasons.get(status, {}).items():
                click.echo(f"    {number} × {reason}")


@click.command("roster")
@click.argument("session_id")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="The CSV file coordinators get in chat, on standard output.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write that CSV file to this new file (created 0600).",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    help="Language of the CSV's headers and statuses (default: [bot] default_language).",
)
@click.pass_obj
def roster(state, session_id: str, as_csv: bool, output: Path | None, language: str | None) -> None:
    """Who registered for SESSION, with confirmations.

    With --csv or --output: the file a coordinator gets with /roster in chat (semicolons,
    UTF-8 with BOM, local times; opens in columns in French Excel).
    """
    db = state.db
    if catalogue.session(db, session_id) is None:
        raise click.ClickException(f"unknown session {one_line(session_id)!r}")
    if output is not None and output.exists():
        raise click.ClickException(f"{output} exists; choose a new file name")
    rows = rosters.export(db, session_id, actor=_actor())
    if as_csv or output is not None:
        config = state.config.bot
        document = roster_document(
            session_id, rows, language or config.default_language, zone(config.timezone)
        )
        if output is None:
            click.echo(document.content, nl=False)
            return
        try:
            private_files.write_new(output, document.content)
        except OSError as error:
            raise click.ClickException(f"cannot write {output}: {error.strerror}") from error
        click.echo(f"roster written to {output} ({len(rows)} rows)")
        return
    for row in rows:
        click.echo("  ".join(one_line(str(value or "")) for value in row))


@click.group("coordinators")
def coordinators_group() -> None:
    """Who may act as a coordinator from Telegram, WhatsApp or the shell."""


def _identity(
    telegram: str | None, whatsapp: str | None, console: str | None = None
) -> tuple[str, str]:
    if sum(1 for given in (telegram, whatsapp, console) if given) != 1:
        raise click.UsageError(
            "give exactly one of --telegram USER_ID, --whatsapp NUMBER or --console NAME"
        )
    if console:
        name = console.strip()
        if not name:
            raise click.BadParameter(
                "the name given to `formabot shell --as`", param_hint="--console"
            )
        return "console", name
    if telegram:
        if not telegram.isdigit():
            raise click.BadParameter("a numeric Telegram user id", param_hint="--telegram")
        return "telegram", telegram
    try:
        return "whatsapp", normalize_phone(whatsapp or "")
    except InvalidPhone as error:
        raise click.BadParameter(str(error), param_hint="--whatsapp") from error


@coordinators_group.command("add")
@click.option("--telegram", help="Telegram user id.")
@click.option("--whatsapp", help="WhatsApp number.")
@click.option("--console", help="A `formabot shell --as NAME` person (to try the tools).")
@click.option("--name", default="", help="Who this is.")
@click.pass_obj
def add_coordinator(state, telegram, whatsapp, console, name: str) -> None:
    """Let this identity use the coordinator commands."""
    channel, address = _identity(telegram, whatsapp, console)
    db = state.db
    coordinators.add(db, channel=channel, address=address, name=name)
    audit.record(
        db, actor=_actor(), action="coordinator.add", subject=f"{channel}:{address}", name=name
    )
    click.echo(f"coordinator added: {channel} {address}")


@coordinators_group.command("remove")
@click.option("--telegram", help="Telegram user id.")
@click.option("--whatsapp", help="WhatsApp number.")
@click.option("--console", help="A `formabot shell --as NAME` person.")
@click.pass_obj
def remove_coordinator(state, telegram, whatsapp, console) -> None:
    """Withdraw coordinator rights from this identity."""
    channel, address = _identity(telegram, whatsapp, console)
    db = state.db
    if not coordinators.remove(db, channel=channel, address=address):
        raise click.ClickException(f"{channel} {address} is not a coordinator")
    audit.record(db, actor=_actor(), action="coordinator.remove", subject=f"{channel}:{address}")
    click.echo(f"coordinator removed: {channel} {address}")


@coordinators_group.command("list")
@click.pass_obj
def list_coordinators(state) -> None:
    """Every coordinator identity."""
    for row in coordinators.all_coordinators(state.db):
        added = from_utc_text(row.added_at).date().isoformat()
        click.echo(f"{row.channel:<9} {row.address:<16} {row.name}  (since {added})".rstrip())


commands = [announce, announcements_group, report, roster, coordinators_group]
