"""Webhook mode: Telegram posts updates to our Starlette app, which checks the secret header."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.channels.telegram.routes import (
    TELEGRAM_SECRET_HEADER,
    TelegramWebhook,
    telegram_routes,
)
from bot.config import Config, load
from bot.web import app as web
from handlers import Context
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.telegram.chat import AMINA
from tests.telegram.support import free_port, write_config

SECRET = "s3cret_Token-for-tests"
HOOK = 'mode = "webhook"\nwebhook_url = "https://bot.example.org/telegram/hook"'


@pytest.fixture
def webhook_config(tmp_path: Path, bot_api: FakeBotAPI) -> Config:
    return load(
        write_config(tmp_path, bot_api, HOOK),
        environ={
            "FORMABOT_TELEGRAM_TOKEN": TOKEN,
            "FORMABOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
        },
    )


@pytest.fixture
async def hooked(webhook_config: Config, programme: Database) -> AsyncIterator[TelegramChannel]:
    context = Context(db=programme, clock=lambda: NOW)
    channel = app.build_telegram(webhook_config, context)
    await lifecycle.start(channel.application, "fr")
    await lifecycle.set_webhook(channel.application, webhook_config.telegram)
    try:
        yield channel
    finally:
        await lifecycle.stop(channel.application)


@pytest.fixture
async def client(hooked: TelegramChannel) -> AsyncIterator[httpx.AsyncClient]:
    hook = TelegramWebhook("/telegram/hook", SECRET, hooked.receive)
    transport = httpx.ASGITransport(app=web.create_app(routes=telegram_routes(hook)))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client


def start_update(bot_api: FakeBotAPI) -> dict:
    return bot_api.update(AMINA, bot_api.message(AMINA, text="/start"))


async def test_set_webhook_carries_the_url_and_the_secret(
    hooked: TelegramChannel, bot_api: FakeBotAPI
) -> None:
    assert bot_api.webhook is not None
    assert bot_api.webhook["url"] == "https://bot.example.org/telegram/hook"
    assert bot_api.webhook["secret_token"] == SECRET
    assert bot_api.webhook["allowed_updates"] == ["message", "callback_query"]
    assert not bot_api.calls_to("getUpdates")


async def test_update_with_the_right_secret_is_answered(
    client: httpx.AsyncClient, hooked: TelegramChannel, bot_api: FakeBotAPI
) -> None:
    response = await client.post(
        "/telegram/hook", json=start_update(bot_api), headers={TELEGRAM_SECRET_HEADER: SECRET}
    )
    assert response.status_code == 200
    await asyncio.wait_for(hooked.application.update_queue.join(), 10)
    assert "Choisissez votre langue" in bot_api.transcript(AMINA)


@pytest.mark.parametrize(
    ("headers", "logged"),
    [
        ({TELEGRAM_SECRET_HEADER: "guessed"}, "wrong secret token"),
        ({}, "without secret token"),
    ],
)
async def test_update_without_the_right_secret_is_refused_and_logged(
    client: httpx.AsyncClient,
    hooked: TelegramChannel,
    bot_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    logged: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.web.app"):
        response = await client.post("/telegram/hook", json=start_update(bot_api), headers=headers)
    assert response.status_code == 403
    assert logged in caplog.text
    await asyncio.wait_for(hooked.application.update_queue.join(), 10)
    assert bot_api.messages(AMINA) == []


async def test_a_malformed_update_is_a_bad_request(client: httpx.AsyncClient) -> None:
    headers = {TELEGRAM_SECRET_HEADER: SECRET}
    assert (await client.post("/telegram/hook", content=b"{", headers=headers)).status_code == 400
    response = await client.post("/telegram/hook", json={"message": {}}, headers=headers)
    assert response.status_code == 400


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


async def test_serve_in_webhook_mode_listens_answers_and_stops(
    tmp_path: Path, bot_api: FakeBotAPI, programme: Database
) -> None:
    """The composition root end to end: uvicorn on a real port, PTB on the same loop."""
    port = free_port()
    config = load(
        write_config(tmp_path, bot_api, HOOK, port=port),
        environ={
            "FORMABOT_TELEGRAM_TOKEN": TOKEN,
            "FORMABOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
        },
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(config, stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(500):
            if bot_api.webhook is not None:
                break
            await asyncio.sleep(0.01)
        refused = await http.post("/telegram/hook", json=start_update(bot_api))
        accepted = await http.post(
            "/telegram/hook", json=start_update(bot_api), headers={TELEGRAM_SECRET_HEADER: SECRET}
        )
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert (refused.status_code, accepted.status_code) == (403, 200)
    assert "Choisissez votre langue" in bot_api.transcript(AMINA)  # handled before stopping
