"""Setting up the bot for a test: its config file, a free port."""

from __future__ import annotations

from pathlib import Path

from bot.app import listening_socket
from tests.fakes.bot_api import FakeBotAPI


def write_config(
    directory: Path, bot_api: FakeBotAPI, telegram: str = "", *, port: int | None = None
) -> Path:
    """The web app always listens (`/healthz`, `/metrics`): on a free port, so that tests
    running at once, or a bot running on this machine, never collide on 8080."""
    path = directory / "config.toml"
    path.write_text(
        f"""
[bot]
database = "formabot.db"

[web]
port = {port or free_port()}

[telegram]
base_url = "{bot_api.base_url}"
base_file_url = "{bot_api.base_file_url}"
{telegram}
""",
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with listening_socket("127.0.0.1", 0) as sock:
        return sock.getsockname()[1]
