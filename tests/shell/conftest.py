"""The shell driven through click's runner, its standard input given as text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli

Shell = Callable[..., Result]


@pytest.fixture
def shell(config_file: Path) -> Shell:
    """`formabot --config <tmp config> shell ARGS…` reading `lines` (then the end of input)."""

    def invoke(*args: str, lines: tuple[str, ...] = ()) -> Result:
        text = "".join(f"{line}\n" for line in lines)
        return CliRunner().invoke(cli, ["--config", str(config_file), "shell", *args], input=text)

    return invoke
