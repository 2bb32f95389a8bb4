"""The `formabot` command: the shell fed from a pipe, database upkeep, run without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlite_utils import Database

from bot.cli.main import cli
from storage import contacts, open_database


def formabot(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a person or a script would run it."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("FORMABOT_")
    }
    environment.update(env or {})
    executable = Path(sys.executable).parent / "formabot"
    return subprocess.run(
        [str(executable), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


def test_shell_driven_from_a_pipe_walks_the_whole_conversation(
    config_file: Path, programme: Database, db_path: Path, tmp_path: Path
) -> None:
    script = (
        "\n".join(
            [
                "/start",  # the person speaks first
                "3",  # English
                "1",  # consent
                "Youssef Benali",  # name
                "atlas",  # company search
                "2",  # Atlas Mécanique
                "2",  # trainee
                "2",  # follow Welding
                "3",  # done
                "1",  # upcoming sessions
                "1",  # the first session
                "1",  # register
                "2",  # add to calendar (after Cancel my registration)
                "/my",
                "/quit",
            ]
        )
        + "\n"
    )
    result = formabot(
        "--config",
        str(config_file),
        "shell",
        "--as",
        "youssef",
        "--attachments",
        str(tmp_path / "ics"),
        input=script,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Choose your language" in out
    assert "You are all set, Youssef Benali!" in out
    assert "You are registered." in out
    assert (tmp_path / "ics" / "tig-2026-12.ics").exists()
    assert "(registered)" in out
    assert "Traceback" not in out + result.stderr
    identity = contacts.identity(open_database(db_path), "console", "youssef")
    assert identity is not None


def test_a_wrong_config_stops_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[bot]\ntimezone = "Europe/Casablanca"\n', encoding="utf-8")
    result = formabot("--config", str(path), "db", "migrate")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: [bot] timezone = 'Europe/Casablanca': expected an IANA time zone such"
        ' as "Africa/Casablanca"'
    ]


def test_db_migrate_then_backup(config_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(config_file), "db", "migrate"])
    assert first.exit_code == 0
    again = runner.invoke(cli, ["--config", str(config_file), "db", "migrate"])
    assert again.output.strip() == "database is up to date"
    target = tmp_path / "backup.db"
    result = runner.invoke(cli, ["--config", str(config_file), "db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "contacts" in Database(target).table_names()
    refused = runner.invoke(cli, ["--config", str(config_file), "db", "backup", str(target)])
    assert refused.exit_code != 0
    assert "exists" in refused.output


def test_every_command_has_help_text() -> None:
    def walk(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    undocumented = [
        " ".join(path)
        for path, command in walk(cli, ["formabot"])
        if not (command.help or "").strip()
    ]
    assert undocumented == []
