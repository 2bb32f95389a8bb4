"""`formabot demo`: a realistic data set in an empty database, to try the whole loop."""

from __future__ import annotations

import getpass

import click

from bot import demo as demo_data


@click.command("demo")
@click.pass_obj
def demo(state) -> None:
    """Load demo data into an empty database: twelve sessions in the coming weeks across
    Morocco, member companies, and contacts in French, Arabic and English to be in
    `formabot shell --as NAME`."""
    config = state.config
    try:
        loaded = demo_data.load(
            state.db, timezone=config.bot.timezone, actor=f"cli:{getpass.getuser()}"
        )
    except demo_data.NotEmpty as error:
        raise click.ClickException(
            f"{config.bot.database}: {error}; load the demo into a new database (another"
            " [bot] database in a config file of its own)"
        ) from error
    click.echo(str(loaded))
    click.echo("The first session, tig-casablanca, is full: a newcomer joins its waiting list.")


commands = [demo]
