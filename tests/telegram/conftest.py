"""The Telegram channel against the fake Bot API: a real PTB Application, real HTTP, a real
SQLite file (the suite's programme), and a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.config import Config, load
from handlers import Context
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.telegram.chat import AMINA, Chat
from tests.telegram.support import write_config


@pytest.fixture(scope="session")
def bot_api_server() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def bot_api(bot_api_server: FakeBotAPI) -> FakeBotAPI:
    bot_api_server.reset()
    return bot_api_server


@pytest.fixture
def config(tmp_path: Path, bot_api: FakeBotAPI) -> Config:
    return load(write_config(tmp_path, bot_api), environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN})


@pytest.fixture
async def telegram(config: Config, programme: Database) -> AsyncIterator[TelegramChannel]:
    """The channel polling the fake server, on the suite's programme, at a fixed clock."""
    context = Context(
        db=programme,
        timezone=config.bot.timezone,
        default_language=config.bot.default_language,
        page_size=config.bot.page_size,
        clock=lambda: NOW,
    )
    channel = app.build_telegram(config, context)
    await lifecycle.start(channel.application, config.bot.default_language)
    try:
        yield channel
    finally:
        await lifecycle.stop(channel.application)


@pytest.fixture
def chat(bot_api: FakeBotAPI, telegram: TelegramChannel) -> Iterator[Chat]:
    """Amina's chat. Whatever the test did, every button press was answered."""
    yield Chat(bot_api, telegram, AMINA)
    assert bot_api.unanswered() == set()
