"""`formabot doctor`: is this installation fit to run? One line per check, OK/WARN/FAIL/SKIP.

The checks live in `bot.ops.doctor`; this command runs them and prints. The exit code is 1 when any
check failed, so a deploy script can stop.
"""

from __future__ import annotations

import click

from bot.ops.doctor import diagnose, render


@click.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5, max=120),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for Telegram and Twilio.",
)
@click.pass_obj
def doctor(state, timeout: float) -> None:
    """Check the configuration, the Telegram and Twilio credentials, the public URLs, the
    database and the time zone data; exit 1 when something must be fixed."""
    findings = diagnose(state.config_path, timeout=timeout)
    for line in render(findings):
        click.echo(line)
    if any(finding.level == "FAIL" for finding in findings):
        click.get_current_context().exit(1)


commands = [doctor]
