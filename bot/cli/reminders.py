"""`formabot remind SESSION`: a session's reminder now, instead of at its time.

For a coordinator who wants the confirmations in early, and for a newcomer trying the bot
in `formabot shell`, who would otherwise wait days to see a reminder and its buttons. The
reminder goes out like any other (the library's `release`, through the outbox): only the
session's registrants, each once; sent early, it is not sent again at its time.
"""

from __future__ import annotations

import getpass

import click

from bot.context import notification_channels
from storage import announcements, audit, catalogue, reminders
from storage.outbox import IMMEDIATE_GRACE, release
from storage.zones import now_utc


@click.command("remind")
@click.argument("session_id")
@click.option(
    "--offset",
    metavar="KEY",
    help="Which reminder, by its [reminders] offset (e.g. 7d, 2h); default: the one"
    " that asks to confirm (confirm_at).",
)
@click.pass_obj
def remind(state, session_id: str, offset: str | None) -> None:
    """Send SESSION's reminder to its registrants now instead of at its time."""
    config = state.config
    offsets = config.reminders.timedeltas()
    key = offset or config.reminders.confirm_at
    if key not in offsets:
        raise click.BadParameter(
            f"{key!r} is not one of [reminders] offsets: " + ", ".join(offsets),
            param_hint="--offset",
        )
    db = state.db
    session = catalogue.session(db, session_id)
    if session is None:
        raise click.ClickException(f"unknown session {session_id!r}")
    now = now_utc()
    if session.status == "cancelled" or session.starts_at <= now:
        raise click.ClickException(
            f"session {session_id} has started or is cancelled: no reminder goes out"
        )
    reminders.sync_session(
        db, session, offsets=offsets, confirm_at=config.reminders.confirm_at, now=now
    )
    notice = announcements.session_notice(db, session_id, key)
    if notice is None or notice.status != "scheduled":
        status = notice.status if notice else "missing"
        note = f" ({notice.note})" if notice and notice.note else ""
        raise click.ClickException(
            f"the {key} reminder of {session_id} is {status}{note}: nothing to send"
        )
    released = release(
        db,
        notice.id,
        now=now,
        grace=IMMEDIATE_GRACE,
        channels=notification_channels(config),
        default_language=config.bot.default_language,
    )
    audit.record(
        db,
        actor=f"cli:{getpass.getuser()}",
        action="reminder.sent_early",
        subject=f"announcement:{notice.id}",
        session=session_id,
        offset=key,
    )
    click.echo(
        f"Queued {released.rows} deliveries of the {key} reminder of {session_id};"
        " the running bot (or `formabot shell`) sends them."
    )


commands = [remind]
