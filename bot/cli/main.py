"""`formabot`: the command line. Thin: each command opens what it needs and calls the library.

Library errors become one clear line for the operator (click.ClickException), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import (
    catalogue,
    coordination,
    database,
    demo,
    doctor,
    i18n,
    reminders,
    run,
    shell,
)
from bot.cli.state import State


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default ./config.toml, else built-in defaults).",
)
@click.pass_context
def cli(context: click.Context, config_path: Path | None) -> None:
    """formabot: training announcements, registrations and reminders on Telegram and WhatsApp."""
    context.obj = State(config_path)
    context.call_on_close(context.obj.close)


for group in (
    run.commands,
    shell.commands,
    database.commands,
    catalogue.commands,
    i18n.commands,
    coordination.commands,
    reminders.commands,
    demo.commands,
    doctor.commands,
):
    for command in group:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="formabot")
