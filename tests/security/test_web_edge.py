"""The web edge against clients that are not Twilio or Telegram, on `formabot run`'s real
port: a body is refused on its size before it is read (413) and cut off when it passes the
cap without saying its size; a connection that trickles its headers or its body is closed
(408 for a body) after `[web] read_timeout`; and what only a platform could send — a signed
status callback with an `ErrorCode` that is no number, a Telegram update nested 100,000 deep
behind the right secret — is a 400 and one log line, never a traceback."""

from __future__ import annotations

import logging
import select
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.channels.telegram.routes import (
    TELEGRAM_MAX_BYTES,
    TELEGRAM_SECRET_HEADER,
    TelegramWebhook,
    telegram_routes,
)
from bot.config import Config, load
from bot.web import app as web
from handlers import Context
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.running import RunningBot
from tests.telegram.support import free_port, write_config
from tests.whatsapp.phone import PUBLIC_URL, sign

ENV = {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN}
SECRET = "s3cret_Token-for-tests"


@pytest.fixture
def running(tmp_path: Path, twilio: FakeTwilio) -> Iterator[RunningBot]:
    """`formabot run` serving WhatsApp, giving a client 1 s for its headers, then its body."""
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[bot]
database = "formabot.db"

[whatsapp]
api_base_url = "{twilio.base_url}"
from = "{SENDER}"
public_url = "{PUBLIC_URL}"

[web]
port = {port}
read_timeout = 1
""",
        encoding="utf-8",
    )
    bot = RunningBot(config, ENV, port)
    try:
        yield bot
    finally:
        bot.kill()


def connect(bot: RunningBot) -> socket.socket:
    port = int(bot.url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def rss_kib(bot: RunningBot) -> int:
    status = Path(f"/proc/{bot.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def answer(sock: socket.socket) -> bytes:
    """What the server sent until it closed the connection. A server that closes with our
    bytes unread resets it, and the kernel may drop its answer: then what came before."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


HEADERS = (
    "POST /whatsapp/inbound HTTP/1.1\r\nHost: bot\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
)


def test_a_huge_unsigned_body_is_refused_before_it_is_read(running: RunningBot) -> None:
    before = rss_kib(running)
    with connect(running) as sock:
        sock.sendall(f"{HEADERS}Content-Length: 300000000\r\n\r\n".encode())
        assert answer(sock).startswith(b"HTTP/1.1 413 ")
    assert rss_kib(running) - before < 20 * 1024
    err = running.stop()
    assert "refused a request from 127.0.0.1: declared 300000000 bytes, more than 65536" in err


def test_a_body_that_does_not_say_its_size_is_cut_off_at_the_cap(running: RunningBot) -> None:
    before = rss_kib(running)
    sent = 0
    with connect(running) as sock:
        sock.sendall(f"{HEADERS}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB a chunk, 300 MB meant
        try:
            while sent < 300_000_000 and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += 0x10000
        except OSError:  # the server closed the connection
            pass
        received = answer(sock)  # the 413, unless the reset of our unread bytes dropped it
        assert received == b"" or received.startswith(b"HTTP/1.1 413 ")
    assert sent < 32 * 1024 * 1024  # what the kernel's buffers took, not 300 MB
    assert rss_kib(running) - before < 20 * 1024
    assert "refused a request from 127.0.0.1: more than 65536 bytes" in running.stop()


def test_connections_that_trickle_are_closed_after_the_read_timeout(running: RunningBot) -> None:
    """A hundred clients that never finish their headers, and one that never finishes its
    body: the server closes them all (it would otherwise hold them for ever)."""
    half_open = [connect(running) for _ in range(100)]
    try:
        for sock in half_open:
            sock.sendall(HEADERS.encode())  # and never the blank line
        with connect(running) as slow:
            slow.sendall(f"{HEADERS}Content-Length: 1000\r\n\r\n".encode() + b"a" * 10)
            assert answer(slow).startswith(b"HTTP/1.1 408 ")
        for sock in half_open:
            assert answer(sock) == b""  # closed by the server
    finally:
        for sock in half_open:
            sock.close()
    assert httpx.get(f"{running.url}/healthz", timeout=5).status_code == 200  # still serving
    err = running.stop()
    assert "sent no complete request headers within 1 s" in err
    assert "body not received within 1 s (10 bytes read)" in err


@pytest.mark.parametrize("code", ["²", "9" * 5000, "-1", "٣"])
def test_a_signed_status_callback_with_no_error_code_number_is_a_400(
    running: RunningBot, code: str
) -> None:
    form = {
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "failed",
        "ErrorCode": code,
        "To": "whatsapp:+212612345678",
        "AccountSid": ACCOUNT_SID,
    }
    response = running.post("/whatsapp/status", form, sign("/whatsapp/status", form))
    assert response.status_code == 400
    err = running.stop()
    assert "Traceback" not in err
    [logged] = [line for line in err.splitlines() if " WARNING " in line or " ERROR " in line]
    assert "refused a status callback from 127.0.0.1: ErrorCode" in logged
    assert logged.endswith("is not a Twilio error code")


@pytest.fixture
def webhook_config(tmp_path: Path, bot_api: FakeBotAPI) -> Config:
    hook = 'mode = "webhook"\nwebhook_url = "https://bot.example.org/telegram/hook"'
    return load(
        write_config(tmp_path, bot_api, hook),
        environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN, "FORMABOT_TELEGRAM_WEBHOOK_SECRET": SECRET},
    )


@pytest.fixture
async def telegram_hook(
    webhook_config: Config, programme: Database
) -> AsyncIterator[httpx.AsyncClient]:
    channel: TelegramChannel = app.build_telegram(
        webhook_config, Context(db=programme, clock=lambda: NOW)
    )
    await lifecycle.start(channel.application, "fr")
    hook = TelegramWebhook("/telegram/hook", SECRET, channel.receive)
    transport = httpx.ASGITransport(app=web.create_app(routes=telegram_routes(hook)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            yield client
    finally:
        await lifecycle.stop(channel.application)


async def test_an_update_nested_100000_deep_behind_the_right_secret_is_a_400(
    telegram_hook: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = await telegram_hook.post(
        "/telegram/hook", content=b"[" * 100_000, headers={TELEGRAM_SECRET_HEADER: SECRET}
    )
    assert response.status_code == 400
    assert [record.getMessage() for record in caplog.records] == [
        "telegram webhook: refused a malformed update from 127.0.0.1: nested too deeply"
    ]


async def test_a_telegram_update_past_the_cap_is_refused_unread(
    telegram_hook: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await telegram_hook.post(
        "/telegram/hook",
        content=b" " * (TELEGRAM_MAX_BYTES + 1),
        headers={TELEGRAM_SECRET_HEADER: SECRET},
    )
    assert response.status_code == 413
    assert "declared 1048577 bytes, more than 1048576" in caplog.text
