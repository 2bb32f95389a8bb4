"""The README's "Try it in the terminal" section, run exactly as written, from a fresh
directory with no configuration and no credentials: each line a shell command, as a newcomer
pastes them (`.venv` is this checkout's virtualenv)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bot.channels.console import NOTIFICATION_MARK
from tests.running import environment

README = Path(__file__).resolve().parents[2] / "README.md"

# README.md, "Try it in the terminal", shows exactly this (checked below).
TRY_IT = r"""
.venv/bin/formabot demo
printf '/start\n1\n1\nAmina Alaoui\natlas\n1\n1\n5\n7\n1\n1\n1\n' | .venv/bin/formabot shell --as amina
.venv/bin/formabot remind tig-casablanca
printf '2\n' | .venv/bin/formabot shell --as nadia
echo /my | .venv/bin/formabot shell --as amina
.venv/bin/formabot coordinators add --console nadia --name "Nadia Bennani"
printf '/announce\n5\n10\n2\nInscriptions ouvertes : soudage MIG/MAG à Fès.\n2\nالتسجيل مفتوح: لحام MIG/MAG بفاس.\n4\n1\n1\n' | .venv/bin/formabot shell --as nadia
echo | .venv/bin/formabot shell --as youssef
"""  # noqa: E501  (as the README shows them: one command a line, to paste)


def test_the_try_it_section_works_as_written_from_a_fresh_directory(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    outputs = []
    for line in TRY_IT.strip().splitlines():
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env=environment(),
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr, line
        outputs.append(done.stdout)
    demo, amina, remind, nadia, amina_again, coordinator, announce, youssef = outputs

    assert "12 sessions" in demo
    assert "Amina Alaoui" in amina and "Soudage TIG – niveau 1" in amina
    assert NOTIFICATION_MARK not in amina  # nothing for her yet: she is on the waiting list
    assert "Queued 3 deliveries" in remind
    # Nadia: the reminder asking her to confirm, then her answer; Amina: the seat is hers.
    assert nadia.count(NOTIFICATION_MARK) == 1
    assert amina_again.count(NOTIFICATION_MARK) == 1
    assert "Soudage TIG – niveau 1" in amina_again.split(NOTIFICATION_MARK)[1]
    assert "coordinator added: console nadia" in coordinator
    # Nadia's announcement reaches her too (she follows welding), then her final report.
    sent = announce.split(NOTIFICATION_MARK)[1:]
    assert len(sent) == 2
    assert "Inscriptions ouvertes : soudage MIG/MAG à Fès." in sent[0]
    assert "Soudage MIG/MAG des aciers" in sent[0]
    assert "4" in sent[1]
    # Youssef, registered too, finds the reminder waiting, then the announcement in Arabic.
    reminder, arabic = youssef.split(NOTIFICATION_MARK)[1:]
    assert "لحام TIG – المستوى 1" in reminder
    assert "التسجيل مفتوح: لحام MIG/MAG بفاس." in arabic


def readme_try_it() -> str:
    """The indented block that opens the README's "Try it in the terminal" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Try it in the terminal", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"\n\n((?:    .*\n)+)", section)
    assert block is not None, "the section has no indented command block"
    return "\n".join(line.removeprefix("    ") for line in block.group(1).splitlines())


def test_the_readme_shows_exactly_the_commands_tested_here() -> None:
    assert readme_try_it() == TRY_IT.strip()
