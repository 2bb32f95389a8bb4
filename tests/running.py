"""`formabot run` as an operator starts it, for the tests that need the real thing: a
subprocess with the installed entry point, an environment holding only the secrets the test
gives it, and the bot's web port to talk to it and to know when it is up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.twilio_api import SENDER, FakeTwilio
from tests.whatsapp.phone import PUBLIC_URL

FORMABOT = Path(sys.executable).with_name("formabot")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any FORMABOT_* the developer has set, plus `extra`:
    a test sees only the configuration it wrote."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORMABOT_")}
    return {**env, **extra}


def write_both_channels_config(
    directory: Path,
    bot_api: FakeBotAPI,
    twilio: FakeTwilio,
    port: int,
    *,
    telegram: str = "",
    more: str = "",
    database: str = "formabot.db",
) -> Path:
    """`config.toml` for Telegram and WhatsApp against the fakes, without quiet hours (a
    broadcast goes out at once, whatever the time), the web app on `port`. `telegram` adds
    keys to [telegram]; `more` adds sections of its own; `database` is where the file is."""
    path = directory / "config.toml"
    path.write_text(
        f"""
[bot]
database = "{database}"
quiet_hours = ""

[telegram]
base_url = "{bot_api.base_url}"
base_file_url = "{bot_api.base_file_url}"
{telegram}

[whatsapp]
api_base_url = "{twilio.base_url}"
from = "{SENDER}"
public_url = "{PUBLIC_URL}"

[web]
port = {port}

{more}
""",
        encoding="utf-8",
    )
    return path


def wait_for(condition: Callable[[], object], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


class RunningBot:
    """`formabot --config CONFIG run ARGS…` in a subprocess, up once `/healthz` answers on
    `port`. `stop()` sends SIGTERM, expects a clean exit and returns the standard error (the
    log); `kill()` is for the test's `finally`, whatever happened."""

    def __init__(
        self,
        config: Path,
        env: dict[str, str],
        port: int,
        *args: str,
        prefix: tuple[str, ...] = (),
        stdin: int = subprocess.DEVNULL,
    ) -> None:
        """`prefix` runs it through another command (one that ends by exec-ing the rest).
        Its standard input is none (as under systemd) unless `stdin` is given (a terminal:
        with no platform's credentials, the console conversation runs there)."""
        self.url = f"http://127.0.0.1:{port}"
        self.output = ""
        self.process = subprocess.Popen(
            [*prefix, str(FORMABOT), "--config", str(config), "run", *args],
            env=environment(**env),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(self.listening)
        except BaseException:
            self.kill()  # the caller has no object to kill yet
            raise

    def listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"formabot run exited: {self.process.communicate()[1]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code > 0
        except httpx.TransportError:
            return False

    def post(self, path: str, form: dict[str, str], signature: str | None) -> httpx.Response:
        """A form posted to the web port, as Twilio posts it (signed, unless `None`)."""
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        return httpx.post(f"{self.url}{path}", data=form, headers=headers, timeout=5)

    def stop(self) -> str:
        """SIGTERM; the standard output is kept in `output`, the standard error returned."""
        self.process.send_signal(signal.SIGTERM)
        self.output, err = self.process.communicate(timeout=20)
        assert self.process.returncode == 0, err
        return err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
