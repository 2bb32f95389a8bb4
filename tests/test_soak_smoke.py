"""The soak (`tests/bench/soak.py`) in small: a few hundred recipients, 3 people chatting, one
SIGKILL and restart of a real `formabot run` amid 5xx, timeouts and 429 bursts; nobody may
be lost or get the announcement twice. The full soak (10,000 recipients, 50 chatters,
3 kills) is run by hand; this keeps the script itself from rotting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parent / "bench" / "soak.py"


@pytest.mark.parametrize(
    ("channel", "recipients", "rate"), [("telegram", 300, 300), ("whatsapp", 200, 200)]
)
def test_a_small_soak_loses_and_duplicates_nobody(channel: str, recipients: int, rate: int) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(SOAK),
            "--channel",
            channel,
            "--recipients",
            str(recipients),
            "--rate",
            str(rate),
            "--chatters",
            "3",
            "--kills",
            "1",
            "--seed",
            "11",
            "--backoff",
            "0.1",
            "--request-timeout",
            "2",
            "--burst-every",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["lost"] == figures["duplicated"] == 0
    assert figures["kills"] == 1
    assert (
        figures["recipients"]
        == recipients
        == (
            figures["delivered_once"]
            + figures["unknown_not_delivered"]
            + figures["failed"]
            + figures["skipped"]
        )
    )
    assert figures["unknown"] == figures["unknown_delivered"] + figures["unknown_not_delivered"]
    assert figures["http_5xx"] and figures["timeouts"]  # the faults did happen
    assert figures["bot_errors"] == 0 and figures["bot_exit"] == 0
