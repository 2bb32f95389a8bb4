"""WhatsApp against the fake Twilio: the real twilio SDK over HTTP, the Starlette endpoints
through httpx's ASGI transport, a real SQLite file, a fixed clock. Every request formabot
makes to the fake is checked against Twilio's OpenAPI description after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from sqlite_utils import Database
from starlette.applications import Starlette

from bot.channels.whatsapp import WhatsAppChannel, whatsapp_routes
from bot.config import WhatsAppSettings
from handlers import Context
from tests.conftest import NOW
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.whatsapp import contract
from tests.whatsapp.phone import PUBLIC_URL, Phone

TEMPLATES = {
    "reminder": {"fr": "HX" + "1" * 32, "en": "HX" + "2" * 32},
    "confirm_request": {"fr": "HX" + "3" * 32},
}


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def twilio(twilio_server: FakeTwilio) -> Iterator[FakeTwilio]:
    twilio_server.reset()
    yield twilio_server
    twilio_server.release()
    broken = {
        f"{r.method} {r.path} {r.form}": contract.problems(r.method, r.path, r.form)
        for r in twilio_server.requests
        if r.auth is not None
    }
    assert {key: value for key, value in broken.items() if value} == {}


@pytest.fixture
def settings(twilio: FakeTwilio) -> WhatsAppSettings:
    return WhatsAppSettings(
        api_base_url=twilio.base_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_=SENDER,
        public_url=PUBLIC_URL,
        timeout_seconds=2.0,
        templates=TEMPLATES,
    )


@pytest.fixture
def context(programme: Database) -> Context:
    return Context(db=programme, clock=lambda: NOW)


@pytest.fixture
async def channel(settings: WhatsAppSettings, context: Context) -> AsyncIterator[WhatsAppChannel]:
    whatsapp = WhatsAppChannel(settings, context)
    try:
        yield whatsapp
    finally:
        await whatsapp.close()


@pytest.fixture
async def http(channel: WhatsAppChannel) -> AsyncIterator[httpx.AsyncClient]:
    """The web app as a reverse proxy forwards to it: an internal host, plain http."""
    app = Starlette(routes=whatsapp_routes(channel))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080"
    ) as client:
        yield client


@pytest.fixture
def amina(http: httpx.AsyncClient, channel: WhatsAppChannel, twilio: FakeTwilio) -> Phone:
    return Phone(http, channel, twilio, "+212612345678")


def with_media(settings: WhatsAppSettings) -> WhatsAppSettings:
    return replace(settings, media_base_url=f"{PUBLIC_URL}/whatsapp/media")
