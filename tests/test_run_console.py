"""`formabot run` on a fresh machine, before any token is set: it serves the web app and the
console's outbox, says in one line how to add Telegram or WhatsApp and in another how to try
the bot now, and stops cleanly on SIGTERM. At a terminal, the console conversation runs in
the foreground."""

from __future__ import annotations

import os
import pty
from pathlib import Path

import httpx
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.app import no_channel_message
from bot.channels.console import NOTIFICATION_MARK
from bot.cli import cli
from handlers import Context
from storage import deliveries
from tests.people import Person
from tests.running import RunningBot, wait_for
from tests.telegram.support import free_port

VARIABLES = ("FORMABOT_TELEGRAM_TOKEN", "FORMABOT_TWILIO_ACCOUNT_SID", "FORMABOT_TWILIO_AUTH_TOKEN")


def write_config(directory: Path, port: int, database: Path | str = "formabot.db") -> Path:
    path = directory / "config.toml"
    path.write_text(f'[bot]\ndatabase = "{database}"\n\n[web]\nport = {port}\n', encoding="utf-8")
    return path


def formabot(config: Path, *args: str, stdin: str = "") -> Result:
    """The CLI as an operator types it beside the running bot, with no credentials."""
    unset: dict[str, str | None] = dict.fromkeys(
        name for name in os.environ if name.startswith("FORMABOT_")
    )
    return CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin, env=unset)


def test_run_with_no_credentials_serves_and_says_how_to_add_a_platform(tmp_path: Path) -> None:
    port = free_port()
    running = RunningBot(write_config(tmp_path, port), {}, port)
    try:
        health = httpx.get(f"{running.url}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        assert health.json()["channels"]["console"]["dispatcher_running"] is True
        metrics = httpx.get(f"{running.url}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert 'channel="console"' in metrics.text
    finally:
        log = running.stop()  # SIGTERM: exit 0, or it raises
    assert log.count(no_channel_message()) == 1
    (hint,) = [line for line in log.splitlines() if no_channel_message() in line]
    assert all(variable in hint for variable in VARIABLES)
    assert "`formabot --config" in log and " demo` fills this empty database" in log
    assert "shell --as amina`" in log
    assert "formabot stopped" in log and "Traceback" not in log
    assert running.output == ""  # no terminal: no conversation


def test_a_shell_person_receives_what_the_cli_queued_while_run_serves_the_console(
    tmp_path: Path,
    programme: Database,
    db_path: Path,
) -> None:
    port = free_port()
    config = write_config(tmp_path, port, db_path)
    Person(Context(db=programme), "amina").onboard()
    running = RunningBot(config, {}, port)
    try:
        queued = formabot(
            config, "announce", "--everyone", "--text", "Journée portes ouvertes", "--yes"
        )
        assert queued.exit_code == 0, queued.output
        announcement_id = int(queued.output.split()[-1])

        def handed_over() -> bool:  # by the running bot's outbox: no shell is open
            rows = deliveries.of_announcement(programme, announcement_id)
            return [row.status for row in rows] == ["sent"]

        wait_for(handed_over)
        shown = formabot(config, "shell", "--as", "amina", stdin="/quit\n")
    finally:
        log = running.stop()
    assert shown.exit_code == 0, shown.output
    assert shown.output.count(NOTIFICATION_MARK) == 1
    assert "Journée portes ouvertes" in shown.output.split(NOTIFICATION_MARK)[1]
    (row,) = deliveries.of_announcement(programme, announcement_id)
    assert row.status == "delivered"
    assert "shell --as NAME`" in log  # the database is not empty: no demo proposed
    assert "demo` fills" not in log


def test_at_a_terminal_run_holds_the_console_conversation_and_quit_stops_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    terminal, stdin = pty.openpty()
    try:
        running = RunningBot(write_config(tmp_path, port), {}, port, stdin=stdin)
    finally:
        os.close(stdin)
    try:
        os.write(terminal, b"/start\n/quit\n")
        output, log = running.process.communicate(timeout=30)
    finally:
        running.kill()
        os.close(terminal)
    assert running.process.returncode == 0, log
    assert 'formabot run: you are "console"' in output
    assert "Choose your language" in output and "3. English" in output
    assert "write below, or in another terminal" in log
    assert "formabot stopped" in log and "Traceback" not in log
