"""`formabot`: the command line. Thin: each command opens what it needs and calls the library.

Library errors become one clear line for the operator (click.ClickException), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot import config as config_module
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


class State:
    """What the group passes to its commands: the config path, loaded when first needed."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: config_module.Config | None = None

    @property
    def config(self) -> config_module.Config:
        if self._config is None:
            try:
                self._config = config_module.load(self.config_path)
            except config_module.ConfigError as error:
                raise click.ClickException(str(error)) from error
        return self._config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default ./config.toml, else built-in defaults).",
)
@click.pass_context
def cli(context: click.Context, config_path: Path | None) -> None:
    """formabot: training announcements, registrations and reminders on Telegram and WhatsApp."""
    context.obj = State(config_path)


for group in (run.commands, shell.commands, database.commands, catalogue.commands,
              i18n.commands, coordination.commands, reminders.commands, demo.commands,
              doctor.commands):
    for command in group:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="formabot")
