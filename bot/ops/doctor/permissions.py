"""The files that hold secrets or people's data are not readable by every local user.

formabot creates its database (and SQLite its -wal/-shm files) 0600, but a database copied
in by hand, restored from a backup with `cp`, or made by an older formabot under umask 022
is readable by everyone on the machine; so is a config file written with a text editor. The
config may hold the webhook's public URL and paths, the database every member's phone
number: each is a WARN with the `chmod` that fixes it. Group access is left alone (the
deployment gives the service group read access to /etc/formabot on purpose).
"""

from __future__ import annotations

import stat
from pathlib import Path

from bot.ops.doctor.findings import Finding

DATABASE_COMPANIONS = ("", "-wal", "-shm")


def check_permissions(config_path: Path | None, database: Path) -> list[Finding]:
    """A WARN per file readable or writable by others; one OK when there is none."""
    files = [("config", config_path)] if config_path is not None else []
    files += [("database", Path(f"{database}{suffix}")) for suffix in DATABASE_COMPANIONS]
    findings = []
    checked = []
    for check, path in files:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue  # missing: the config and database checks say so
        checked.append(str(path))
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            findings.append(
                Finding(
                    "WARN",
                    check,
                    f"{path} is readable by every user of this machine (mode {mode:04o})",
                    f"chmod o-rwx {path}  (0600, or 0640 for the service's group)",
                )
            )
    if not findings and checked:
        findings.append(
            Finding("OK", "permissions", "not readable by other users: " + ", ".join(checked))
        )
    return findings
