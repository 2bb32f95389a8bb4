"""Files of people's data are private whatever the umask. Under umask 022 (where an ordinary
file is created 0644, readable by every local user) the database and its -wal/-shm files,
`db backup FILE`, `db backup DIR`, `roster --output` (see test_export_injection.py) and the
shell's attachments are created 0600 (directories 0700); `doctor` warns, with the chmod to
run, when the config file or the database is readable by others."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.channels.console import ConsoleChannel
from bot.cli.main import cli
from handlers import Context
from handlers.types import Attachment, Reply
from storage import open_database
from tests.conftest import Run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The common default: what these files would be created with, left to themselves."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_database_and_its_wal_and_shm_files_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "formabot.db"
    db = open_database(path)
    try:
        db["probe"].insert({"x": 1})  # a write: SQLite creates -wal and -shm
        created = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(file.exists() for file in created)
        assert [mode(file) for file in created] == [0o600] * 3
    finally:
        db.close()


def test_an_existing_database_keeps_the_mode_its_operator_chose(tmp_path: Path) -> None:
    path = tmp_path / "formabot.db"
    open_database(path).close()
    path.chmod(0o640)
    open_database(path).close()
    assert mode(path) == 0o640


def test_a_backup_to_a_file_is_private(run: Run, db: Database, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    result = run("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    assert Database(target)["contacts"].count == 0  # a real copy


def test_a_backup_into_a_directory_is_private(run: Run, db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    result = run("db", "backup", str(folder), "--keep", "3")
    assert result.exit_code == 0, result.output
    [copy] = folder.glob("formabot-*.db")
    assert mode(copy) == 0o600


def test_a_backup_never_overwrites_and_leaves_nothing_on_failure(
    run: Run, db: Database, tmp_path: Path
) -> None:
    existing = tmp_path / "kept.db"
    existing.write_bytes(b"precious")
    refused = run("db", "backup", str(existing))
    assert refused.exit_code != 0 and "exists" in refused.output
    assert existing.read_bytes() == b"precious"


def test_the_shells_attachments_are_private(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "attachments" / "roster"
    shown: list[str] = []
    console = ConsoleChannel(
        Context(db=db), name="salma", attachments_dir=folder, write=shown.append
    )
    console.render(
        [
            Reply(
                "Roster",
                attachments=(
                    Attachment("roster-tig.csv", b"Nom;T\xc3\xa9l\xc3\xa9phone\r\n", "text/csv"),
                ),
            )
        ]
    )
    assert mode(folder) == 0o700
    assert mode(folder / "roster-tig.csv") == 0o600


def _doctor(config: Path) -> Result:
    return CliRunner().invoke(
        cli,
        ["--config", str(config), "doctor", "--timeout", "1"],
        env={
            "FORMABOT_TELEGRAM_TOKEN": None,
            "FORMABOT_TWILIO_ACCOUNT_SID": None,
            "FORMABOT_TWILIO_AUTH_TOKEN": None,
        },
    )


def test_doctor_warns_when_the_config_or_the_database_is_readable_by_others(
    config_file: Path, db_path: Path
) -> None:
    open_database(db_path).close()
    config_file.chmod(0o644)
    db_path.chmod(0o644)
    output = _doctor(config_file).output
    assert "WARN  config" in output and f"{config_file} is readable by every user" in output
    assert f"{db_path} is readable by every user of this machine (mode 0644)" in output
    assert f"fix: chmod o-rwx {db_path}" in output

    config_file.chmod(0o640)  # the service's group may read it: that is the deployment's way
    db_path.chmod(0o600)
    output = _doctor(config_file).output
    assert "readable by every user" not in output
    assert "OK    permissions  not readable by other users" in output
