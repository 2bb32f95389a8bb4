"""`formabot announce --wait`: follow a broadcast to its end, then print its final report.

The CLI does not send anything itself: the running bot does, perhaps in another process or
on another machine sharing the database file. So this only reads the database, a few times
a second, and shows how many rows are done (rich progress bar on standard error, so that
standard output keeps the announcement's id and the report for scripts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlite_utils import Database

from storage import announcements, deliveries
from storage.deliveries import STATUSES, Report

FINISHED = ("sent", "cancelled", "missed")


def wait_for(
    db: Database,
    announcement_id: int,
    *,
    local: Callable[[datetime], str],
    poll_seconds: float = 0.25,
    console: Console | None = None,
) -> Report:
    """Poll until the announcement is sent, cancelled or missed; its report then."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as bar:
        task = bar.add_task("", total=None)
        while True:
            announcement = announcements.get(db, announcement_id)
            if announcement is None:
                raise click.ClickException(f"announcement {announcement_id} was deleted")
            report = deliveries.report(db, announcement_id)
            if announcement.status == "scheduled":
                description = f"due {local(announcement.due_at)}"
            else:
                description = announcement.status
            bar.update(
                task,
                description=description,
                total=report.total or None,
                completed=report.total - report.outstanding,
            )
            if announcement.status in FINISHED:
                return report
            time.sleep(poll_seconds)


def echo_report(db: Database, announcement_id: int, report: Report) -> None:
    """The same lines as `formabot report`."""
    announcement = announcements.get(db, announcement_id)
    status = f"{announcement.status} {announcement.note}".rstrip() if announcement else "gone"
    click.echo(f"Announcement {announcement_id}: {status}")
    for state in STATUSES:
        if report.counts.get(state):
            click.echo(f"  {state}: {report.counts[state]}")
            for reason, number in report.reasons.get(state, {}).items():
                click.echo(f"    {number} × {reason}")
