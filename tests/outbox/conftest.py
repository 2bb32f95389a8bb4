"""Outbox fixtures: a fake clock, a fake Telegram sender, and a few contacts."""

from __future__ import annotations

import pytest
from outbox_fakes import FakeClock, FakeSender, add_contact
from sqlite_utils import Database

from storage import catalogue


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telegram(clock: FakeClock) -> FakeSender:
    return FakeSender("telegram", clock)


@pytest.fixture
def people(programme: Database) -> Database:
    """Five contacts: three reachable welders, one who opted out, one who never consented."""
    add_contact(programme, "Amina", telegram="101")
    add_contact(programme, "Youssef", whatsapp="+212612345678", role="trainee", company="M002")
    add_contact(
        programme, "Karim", telegram="103", whatsapp="+212612345679", topics=("maintenance",)
    )
    add_contact(programme, "Opted Out", telegram="104", opted_out=True)
    add_contact(programme, "No Consent", telegram="105", consent=False)
    catalogue.upsert_topic(programme, "usinage", {"fr": "Usinage"})
    return programme
