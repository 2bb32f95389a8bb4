"""Outbox test helpers: contacts who may be notified, a fake clock, a scriptable fake sender."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bot.outbox.dispatcher import SendResult
from handlers.types import Reply
from storage import companies, contacts, subscriptions
from storage.deliveries import Delivery
from storage.zones import to_utc_text

NOW = datetime.fromisoformat("2026-11-29T09:00:00+00:00")


def add_contact(
    db: Database,
    name: str,
    *,
    telegram: str | None = None,
    whatsapp: str | None = None,
    topics: tuple[str, ...] = ("soudage",),
    role: str = "manager",
    company: str | None = "M001",
    consent: bool = True,
    opted_out: bool = False,
    language: str = "fr",
) -> int:
    company_id = companies.by_member_id(db, company).id if company else None
    contact_id = contacts.create(
        db,
        name=name,
        role=role,
        company_id=company_id,
        language=language,
        consent_at=to_utc_text(NOW) if consent else None,
        opted_out_at=to_utc_text(NOW) if opted_out else None,
    )
    contacts.set_state(db, contact_id, {"welcomed": True, "topics_chosen": True})
    if telegram:
        contacts.attach_identity(db, contact_id, channel="telegram", address=telegram)
    if whatsapp:
        contacts.attach_identity(db, contact_id, channel="whatsapp", address=whatsapp)
    for slug in topics:
        subscriptions.subscribe(db, contact_id, slug)
    return contact_id


class FakeClock:
    """Time that moves only when someone sleeps on it: no test waits for real."""

    def __init__(self, start: datetime = NOW) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(seconds, 0))
        await asyncio.sleep(0)

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass(frozen=True)
class Call:
    at: datetime
    address: str
    delivery_id: int
    text: str


class FakeSender:
    """Records every request; answers from a script (per address, else in order), else sent."""

    def __init__(self, channel: str, clock: FakeClock) -> None:
        self.channel = channel
        self.clock = clock
        self.calls: list[Call] = []
        self.script: deque[SendResult] = deque()
        self.by_address: dict[str, deque[SendResult]] = {}

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        self.calls.append(Call(self.clock.now(), delivery.address, delivery.id, rendered.text))
        await asyncio.sleep(0)
        queue = self.by_address.get(delivery.address)
        if queue:
            return queue.popleft()
        if self.script:
            return self.script.popleft()
        return SendResult.sent(f"m{len(self.calls)}")

    def addresses(self) -> list[str]:
        return [call.address for call in self.calls]
