"""The dispatcher: exactly once, rate limits, retries, blocked contacts, crashes, quiet hours."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from outbox_fakes import NOW, FakeClock, FakeSender
from sqlite_utils import Database

from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, QuietHours, SendResult
from bot.outbox.dispatcher import recover_interrupted as recover
from storage import announcements, audit, contacts, deliveries
from storage.audience import Audience
from storage.outbox import release
from storage.zones import zone

CASA = zone("Africa/Casablanca")


def broadcast(
    db: Database, clock: FakeClock, *, urgent: bool = False, audience: Audience | None = None
) -> int:
    announcement_id = announcements.create(
        db,
        texts={"*": "Nouvelle session de soudage"},
        audience=audience or Audience(),
        due_at=clock.now(),
        created_by="test",
        now=clock.now(),
        urgent=urgent,
    )
    release(db, announcement_id, now=clock.now(), grace=timedelta(hours=6))
    return announcement_id


def dispatcher(db: Database, sender: FakeSender, clock: FakeClock, **settings) -> Dispatcher:
    quiet = settings.pop("quiet", None)
    return Dispatcher(
        db,
        sender,
        zone=CASA,
        clock=clock,
        quiet=quiet,
        settings=DispatcherSettings(**{"concurrency": 1, **settings}),
    )


async def test_every_delivery_goes_exactly_once_when_run_twice(people, clock, telegram) -> None:
    announcement_id = broadcast(people, clock)
    release(people, announcement_id, now=clock.now(), grace=timedelta(hours=6))  # again
    await dispatcher(people, telegram, clock).drain()
    await dispatcher(people, telegram, clock, concurrency=4).drain()
    assert sorted(telegram.addresses()) == ["101", "103"]
    assert "Nouvelle session" in telegram.calls[0].text
    assert deliveries.report(people, announcement_id).counts == {"pending": 1, "sent": 2}


async def test_announcement_is_sent_once_every_channel_has_sent(people, clock, telegram) -> None:
    announcement_id = broadcast(people, clock)
    whatsapp = FakeSender("whatsapp", clock)
    await dispatcher(people, telegram, clock).drain()
    await dispatcher(people, whatsapp, clock).drain()
    assert whatsapp.addresses() == ["+212612345678"]
    assert announcements.get(people, announcement_id).status == "sent"


async def test_rate_limit_spaces_requests(people, clock, telegram) -> None:
    broadcast(people, clock)
    await dispatcher(people, telegram, clock, rate_per_second=0.5).drain()
    first, second = telegram.calls
    assert second.at - first.at >= timedelta(seconds=2)


async def test_429_pauses_the_whole_channel_for_the_time_asked(people, clock, telegram) -> None:
    announcement_id = broadcast(people, clock)
    telegram.script.append(SendResult.rate_limited(30))
    started = clock.now()
    await dispatcher(people, telegram, clock, rate_per_second=1000).drain()
    assert sorted(telegram.addresses()) == ["101", "101", "103"]
    assert all(call.at >= started + timedelta(seconds=30) for call in telegram.calls[1:])
    assert deliveries.report(people, announcement_id).counts["sent"] == 2


async def test_5xx_is_retried_with_backoff_then_failed_with_reason(people, clock, telegram) -> None:
    announcement_id = broadcast(people, clock)
    telegram.by_address["101"] = deque([SendResult.transient("HTTP 502 Bad Gateway")] * 3)
    await dispatcher(people, telegram, clock, max_attempts=3, backoff_seconds=1).drain()
    tries = [call.at for call in telegram.calls if call.address == "101"]
    assert len(tries) == 3
    assert tries[2] - tries[1] >= 2 * (tries[1] - tries[0]) >= timedelta(seconds=1)
    result = deliveries.report(people, announcement_id)
    assert result.counts == {"failed": 1, "pending": 1, "sent": 1}
    assert result.reasons["failed"] == {"HTTP 502 Bad Gateway (gave up after 3 attempts)": 1}


async def test_timeout_then_success_is_sent_once(people, clock, telegram) -> None:
    broadcast(people, clock)
    telegram.script.append(SendResult.transient("timeout"))
    await dispatcher(people, telegram, clock).drain()
    assert sorted(telegram.addresses()) == ["101", "101", "103"]


async def test_403_marks_identity_inactive_and_skips_later_rows(people, clock, telegram) -> None:
    telegram.by_address["101"] = deque(
        [SendResult.blocked("Forbidden: bot was blocked by the user")]
    )
    first = broadcast(people, clock)
    await dispatcher(people, telegram, clock).drain()
    assert contacts.identity(people, "telegram", "101").active is False
    second = broadcast(people, clock)
    await dispatcher(people, telegram, clock).drain()
    assert telegram.addresses().count("101") == 1
    assert deliveries.report(people, first).reasons["failed"] == {
        "blocked: Forbidden: bot was blocked by the user": 1
    }
    assert deliveries.report(people, second).counts.get("skipped", 0) == 0  # not even a row


async def test_blocked_rows_already_queued_are_skipped_or_rerouted(people, clock, telegram) -> None:
    announcement_id = broadcast(people, clock)
    contacts.mark_identity_inactive(people, "telegram", "101", "blocked")
    contacts.mark_identity_inactive(people, "telegram", "103", "blocked")
    await dispatcher(people, telegram, clock).drain()
    assert telegram.calls == []
    result = deliveries.report(people, announcement_id)
    assert result.reasons["skipped"] == {"blocked": 1, "blocked; sent on whatsapp instead": 1}
    whatsapp = FakeSender("whatsapp", clock)
    await dispatcher(people, whatsapp, clock).drain()
    assert sorted(whatsapp.addresses()) == ["+212612345678", "+212612345679"]


async def test_rows_left_sending_become_unknown_and_are_never_resent(
    people, clock, telegram
) -> None:
    announcement_id = broadcast(people, clock)
    row = deliveries.due(people, "telegram", now=clock.now(), limit=1)[0]
    deliveries.mark_sending(people, row.id, now=clock.now())  # then the process was killed
    assert recover(people, now=clock.now()) == {announcement_id: 1}
    await dispatcher(people, telegram, clock).drain()
    assert row.address not in telegram.addresses()
    assert deliveries.report(people, announcement_id).counts["unknown"] == 1
    assert audit.entries(people, action="deliveries.unknown")[0].details == {"count": 1}


async def test_opt_out_after_queueing_is_honoured(people, clock, telegram) -> None:
    broadcast(people, clock)
    amina = contacts.identity(people, "telegram", "101").contact_id
    contacts.update(people, amina, opted_out_at="2026-11-29T09:00:00Z")
    await dispatcher(people, telegram, clock).drain()
    assert telegram.addresses() == ["103"]


async def test_quiet_hours_hold_non_urgent_rows_until_morning(people, telegram) -> None:
    clock = FakeClock(NOW.replace(hour=22))  # 22:00 in Casablanca (UTC+00)
    telegram.clock = clock
    quiet = QuietHours.parse("21:00-08:00", CASA)
    normal = broadcast(people, clock, audience=Audience(topics=("soudage",)))
    urgent = broadcast(people, clock, urgent=True, audience=Audience(topics=("maintenance",)))
    worker = dispatcher(people, telegram, clock, quiet=quiet)
    await worker.send_due()
    assert telegram.addresses() == ["103"]
    await worker.drain()
    assert telegram.addresses() == ["103", "101"]
    assert telegram.calls[1].at >= NOW.replace(hour=8) + timedelta(days=1)
    assert deliveries.report(people, normal).counts == {"pending": 1, "sent": 1}
    assert deliveries.report(people, urgent).counts == {"sent": 1}


def test_quiet_hours_end() -> None:
    quiet = QuietHours.parse("21:00-08:00", CASA)
    assert quiet.ends_at(NOW.replace(hour=12)) is None
    assert quiet.ends_at(NOW.replace(hour=6)) == NOW.replace(hour=8)
    assert quiet.ends_at(NOW.replace(hour=23)) == NOW.replace(hour=8) + timedelta(days=1)
