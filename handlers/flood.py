"""Inbound flood control: someone sending hundreds of messages a minute slows only themselves.

Each channel identity (Telegram user, WhatsApp number) has a token bucket: `BURST` messages
at once, then one more every `REFILL_SECONDS`. A message that finds no token starts a flood:
that person gets one polite notice (at most one per `NOTICE_EVERY`), and their further
messages are dropped before the conversation runs — no reply, nothing stored, nothing
handled — until they are within the limit again. Every dropped message also empties the
bucket, so someone who keeps going stays out, and a pause of `REFILL_SECONDS` lets them in.

Exempt: coordinators (known staff, who may work fast while a broadcast runs) and the
console (the operator at their own terminal). A STOP always goes through while the person
is not yet opted out: an opt-out is honoured at once (docs/architecture.md), flood or not.

The state lives in memory, per process (a restart forgets it, which is harmless), in the
`Context` every channel shares; time comes from its clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from handlers import keywords
from handlers.i18n import t
from handlers.types import Inbound, Reply
from storage import contacts as contacts_store
from storage import coordinators

if TYPE_CHECKING:
    from handlers.context import Context

log = logging.getLogger(__name__)

BURST = 20
REFILL_SECONDS = 2.0
NOTICE_EVERY = timedelta(minutes=10)
EXEMPT_CHANNELS = frozenset({"console"})
PRUNE_EVERY = 1_000  # admissions between sweeps of the buckets of people gone quiet


class Verdict(Enum):
    """What becomes of a message over the limit."""

    NOTICE = "notice"  # the first of a flood: say so once, handle nothing
    HUSH = "hush"  # the first of a flood soon after a notice: handle nothing, say nothing
    DROP = "drop"  # more of the same flood: no answer at all


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    flooding: bool = False
    noticed_at: datetime | None = None


class FloodGate:
    """The token buckets of one running bot, keyed by (channel, address). Used from one
    event loop (or one thread), like the handlers themselves."""

    def __init__(
        self,
        *,
        burst: int = BURST,
        refill_seconds: float = REFILL_SECONDS,
        notice_every: timedelta = NOTICE_EVERY,
    ) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self.notice_every = notice_every
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._admitted = 0

    def admits(self, key: tuple[str, str], now: datetime) -> bool:
        """Take a token for one message from `key`; False when there is none (and the bucket
        is emptied: keeping on keeps them out)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        elapsed = max((now - bucket.at).total_seconds(), 0.0)  # a clock set back adds nothing
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.refill_seconds)
        bucket.at = max(now, bucket.at)
        if bucket.tokens < 1:
            bucket.tokens = 0.0
            return False
        bucket.tokens -= 1
        bucket.flooding = False
        self._admitted += 1
        if self._admitted % PRUNE_EVERY == 0:
            self._prune(now)
        return True

    def overflow(self, key: tuple[str, str], now: datetime) -> Verdict:
        """What to do with a message `admits` refused: the flood starts or goes on."""
        bucket = self._buckets[key]
        if bucket.flooding:
            return Verdict.DROP
        bucket.flooding = True
        if bucket.noticed_at is not None and now - bucket.noticed_at < self.notice_every:
            return Verdict.HUSH  # told a moment ago: once is enough
        bucket.noticed_at = now
        return Verdict.NOTICE

    def _prune(self, now: datetime) -> None:
        """Drop the buckets that are full again and whose notice is old: they hold nothing a
        fresh bucket would not."""
        full = timedelta(seconds=self.burst * self.refill_seconds)
        self._buckets = {
            key: bucket
            for key, bucket in self._buckets.items()
            if now - bucket.at < full
            or (bucket.noticed_at is not None and now - bucket.noticed_at < self.notice_every)
        }

    def __len__(self) -> int:
        return len(self._buckets)


def screen(context: Context, inbound: Inbound) -> list[Reply] | None:
    """None when `inbound` may be handled; otherwise what to answer instead (the notice, or
    nothing at all), before anything is read into or written to the conversation."""
    if inbound.channel in EXEMPT_CHANNELS:
        return None
    if inbound.channel == "whatsapp" and inbound.phone is not None:
        # Never typed on WhatsApp: the channel shares the number WhatsApp verified, on the
        # person's behalf, within the message just counted.
        return None
    key = (inbound.channel, inbound.address)
    now = context.now()
    if context.flood.admits(key, now):
        return None
    if coordinators.is_coordinator(context.db, channel=inbound.channel, address=inbound.address):
        return None
    found = contacts_store.identity(context.db, inbound.channel, inbound.address)
    contact = contacts_store.get(context.db, found.contact_id) if found else None
    if contact is not None and contact.opted_out_at is None and _is_stop(inbound):
        return None  # an opt-out is honoured at once, flood or not (and only once)
    verdict = context.flood.overflow(key, now)
    if verdict is Verdict.DROP:
        return []
    log.warning(
        "flood: contact %s on %s writes too fast; their messages are dropped until they slow down",
        contact.id if contact else "(new)",
        inbound.channel,
    )
    if verdict is Verdict.HUSH:
        return []
    language = (contact.language if contact else None) or context.default_language
    return [
        Reply(
            t(
                language,
                "You are sending messages faster than I can read them. I will"
                " answer again once you slow down: please wait a few seconds"
                " before writing.",
            ),
            language=language,
        )
    ]


def _is_stop(inbound: Inbound) -> bool:
    """STOP, ARRÊT, توقف, /stop, the Stop button or the consent question's "No" (an old one
    included): every way of saying no to notifications."""
    command = keywords.as_command(inbound).command
    action = inbound.action
    return (command or "").lower() == "stop" or (
        action is not None
        and (action.name == "stop" or (action.name == "consent" and action.args[:1] == ("no",)))
    )
