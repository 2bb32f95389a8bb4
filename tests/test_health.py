"""`/healthz`: 200 and the details when the bot does its job; 503 and the reasons when the
database refuses writes, the scheduler or a dispatcher has stopped, due notifications make no
progress (none handled, or no successful request, for too long), or a due notification has
waited too long while the outbox drains too slowly to catch up. Repeated requests share one
report for a few seconds, and the write probe runs at most every 30 s."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from bot import app
from bot.config import Config, ConfigError, load
from bot.ops.health import Health, Report, Thresholds, last_quiet_end
from bot.ops.metrics import Metrics
from bot.outbox.dispatcher import QuietHours, SendResult
from bot.outbox.running import RunningOutbox
from bot.web import app as web
from handlers.types import Reply
from storage import broadcasts, contacts, deliveries
from storage.audience import Audience
from storage.deliveries import Delivery
from storage.monitoring import Connect, borrowed, opening
from storage.zones import now_utc, to_utc_text, zone
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.telegram.support import free_port, write_config

CASA = zone("Africa/Casablanca")
LIMITS = Thresholds(max_due_age=timedelta(minutes=30), max_silence=timedelta(minutes=10))


class Platform:
    """The outbox's way to a channel, answering every request as told (default: sent)."""

    def __init__(self, channel: str, answer: SendResult | None = None) -> None:
        self.channel = channel
        self.answer = answer or SendResult.sent("m1")
        self.requests = 0

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        self.requests += 1
        await asyncio.sleep(0)
        return self.answer


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


def enrol(db: Database, count: int = 3) -> None:
    stamp = to_utc_text(NOW)
    for n in range(count):
        contact_id = contacts.create(
            db,
            name=f"P{n}",
            language="fr",
            consent_at=stamp,
            state={"welcomed": True, "topics_chosen": True},
        )
        contacts.attach_identity(db, contact_id, channel="telegram", address=str(900 + n))


def broadcast(db: Database, at: datetime, *, urgent: bool = False) -> None:
    """A broadcast to everyone, its rows due from `at`."""
    broadcasts.publish(
        db,
        texts={"*": "Nouvelle session"},
        audience=Audience(),
        due_at=at,
        created_by="cli:test",
        now=at,
        urgent=urgent,
    )


def health(
    db: Database,
    clock: Clock,
    *,
    metrics: Metrics | None = None,
    quiet: QuietHours | None = None,
    outbox: RunningOutbox | None = None,
) -> Health:
    metrics = metrics or Metrics(clock=lambda: clock().timestamp())
    return Health(
        borrowed(db),
        metrics,
        ["telegram"],
        outbox=outbox,
        quiet=quiet,
        thresholds=LIMITS,
        clock=clock,
    )


def send_one(db: Database, metrics: Metrics, at: datetime, *, urgent_only: bool = False) -> None:
    """What the dispatcher does with the oldest due row when the platform takes it."""
    (row,) = deliveries.due(db, "telegram", now=at, limit=1, urgent_only=urgent_only)
    assert deliveries.mark_sending(db, row.id, now=at)
    deliveries.mark_sent(db, row.id, now=at, provider_message_id="m1")
    metrics.sent("telegram", "sent", 0.05)


def config_for(tmp_path: Path, db_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndatabase = "{db_path}"\nquiet_hours = ""\n', encoding="utf-8")
    return load(path, environ={})


@pytest.fixture
async def running(tmp_path: Path, db_path: Path, db: Database) -> AsyncIterator[RunningOutbox]:
    outbox = RunningOutbox(config_for(tmp_path, db_path), db, [Platform("telegram")])
    await outbox.start()
    try:
        yield outbox
    finally:
        await outbox.stop()


async def get(app_health: Health, path: str = "/healthz") -> httpx.Response:
    served = web.create_app(health=app_health.report, metrics=app_health.metrics.scrape)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served), base_url="http://bot"
    ) as client:
        return await client.get(path)


async def test_healthz_is_200_with_the_details_when_all_is_well(
    db_path: Path, running: RunningOutbox
) -> None:
    """As the bot asks: in a worker thread, on a connection of its own."""
    metrics = Metrics()
    metrics.call_succeeded("telegram")
    response = await get(Health(opening(db_path), metrics, ["telegram"], outbox=running))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["reasons"]) == ("ok", [])
    assert body["database"] == {"writable": True, "probed_at": body["checked_at"]}
    assert body["scheduler"] == {"running": True}
    assert body["outbox"] == {"pending": 0, "oldest_due_seconds": 0.0}
    telegram = body["channels"]["telegram"]
    assert telegram["dispatcher_running"] is True
    assert (telegram["pending"], telegram["drained_per_minute"]) == (0, 0.0)
    assert telegram["last_success_at"] is not None
    assert response.headers["cache-control"] == "no-store"


async def test_a_database_that_refuses_writes_is_503(db: Database) -> None:
    db.execute("PRAGMA query_only = ON")
    response = await get(health(db, Clock()))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["database"]["writable"] is False
    assert body["reasons"] == [f"database not writable: {body['database']['error']}"]
    assert "readonly" in body["database"]["error"]


async def test_a_database_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    gone = Health(opening(tmp_path / "no-such-directory" / "formabot.db"), Metrics(), ["telegram"])
    report = await gone.report()
    assert report.status_code == 503
    assert report.body["reasons"] == ["database not readable: unable to open database file"]


def test_the_write_probe_leaves_nothing_behind(db: Database) -> None:
    before = db.table_names()
    assert health(db, Clock()).check().healthy
    assert db.table_names() == before
    assert not db.conn.in_transaction


def test_the_write_probe_runs_at_most_every_30_seconds(db: Database) -> None:
    """It takes the database's write lock: checks in between reuse its verdict."""
    clock = Clock()
    checked = health(db, clock)
    assert checked.check().body["database"] == {"writable": True, "probed_at": to_utc_text(NOW)}
    db.execute("PRAGMA query_only = ON")  # refuses writes from now on
    clock.current += timedelta(seconds=29)
    report = checked.check()
    assert report.healthy
    assert report.body["database"]["probed_at"] == to_utc_text(NOW)
    clock.current += timedelta(seconds=1)
    report = checked.check()
    assert report.body["reasons"] == [f"database not writable: {report.body['database']['error']}"]
    assert report.body["database"]["probed_at"] == to_utc_text(clock.current)


class Counting:
    """A `Connect` that counts the checks made through it."""

    def __init__(self, db: Database) -> None:
        self.connect: Connect = borrowed(db)
        self.opened = 0

    def __call__(self) -> AbstractContextManager[Database]:
        self.opened += 1
        return self.connect()


async def test_requests_within_5_seconds_share_one_report(db: Database) -> None:
    clock = Clock()
    connect = Counting(db)
    checked = Health(connect, Metrics(), ["telegram"], thresholds=LIMITS, clock=clock)
    first, *others = await asyncio.gather(*(checked.report() for _ in range(10)))
    assert connect.opened == 1
    assert all(other is first for other in others)
    clock.current += timedelta(seconds=4)
    assert await checked.report() is first
    clock.current += timedelta(seconds=1)
    again = await checked.report()
    assert connect.opened == 2
    assert again.body["checked_at"] == to_utc_text(clock.current)

    clock.current += timedelta(seconds=5)
    hung_up = asyncio.create_task(checked.report())
    waiting = asyncio.create_task(checked.report())
    await asyncio.sleep(0)
    hung_up.cancel()  # a client that goes away does not cancel the check the others await
    assert (await waiting).body["checked_at"] == to_utc_text(clock.current)
    assert connect.opened == 3


async def test_a_stopped_scheduler_and_dispatcher_are_503(
    tmp_path: Path, db_path: Path, db: Database
) -> None:
    outbox = RunningOutbox(config_for(tmp_path, db_path), db, [Platform("telegram")])
    await outbox.start()
    await outbox.stop()
    report = Health(borrowed(db), Metrics(), ["telegram"], outbox=outbox).check()
    assert report.status_code == 503
    assert report.body["reasons"] == ["scheduler stopped", "telegram: dispatcher stopped"]


async def test_rows_that_fell_due_while_the_bot_was_down_wait_from_its_start(db: Database) -> None:
    """Two hours down: right after the restart the bot is healthy, and the rows count as
    waiting from the start; a dispatcher that then handles none of them is reported."""
    enrol(db)
    broadcast(db, NOW - timedelta(hours=2))
    clock = Clock()
    checked = health(db, clock)
    response = await get(checked)
    assert response.status_code == 200, response.json()
    telegram = response.json()["channels"]["telegram"]
    assert (telegram["due"], telegram["oldest_due_seconds"], telegram["overdue_seconds"]) == (
        3,
        7200.0,
        0.0,
    )

    clock.current += timedelta(minutes=11)
    report = checked.check()
    assert report.status_code == 503
    assert report.body["reasons"] == [
        "telegram: notifications are due but none was handled for 660 s"
    ]


def test_a_long_broadcast_going_out_steadily_is_healthy(db: Database) -> None:
    """40 rows at 1 a minute take 40 minutes, longer than `max_due_age` (30): at every
    minute the oldest row has waited long, but what is left goes out in time."""
    enrol(db, 40)
    clock = Clock()
    checked = health(db, clock)
    broadcast(db, NOW)
    for minute in range(1, 40):
        clock.current = NOW + timedelta(minutes=minute)
        send_one(db, checked.metrics, clock.current)
        report = checked.check()
        assert report.healthy, (minute, report.body)
    telegram = report.body["channels"]["telegram"]
    assert (telegram["due"], telegram["overdue_seconds"], telegram["drained_per_minute"]) == (
        1,
        39 * 60.0,
        1.0,
    )


def test_a_due_row_waiting_too_long_while_the_outbox_crawls_is_503(db: Database) -> None:
    """One row every 5 minutes: never silent for `max_silence` (10 minutes), but the 40 rows
    would take over 3 hours. Once the oldest has waited `max_due_age` (30), that is a fault."""
    enrol(db, 40)
    clock = Clock()
    checked = health(db, clock)
    broadcast(db, NOW)
    reports: dict[int, Report] = {}
    for minute in range(1, 36):
        clock.current = NOW + timedelta(minutes=minute)
        if minute % 5 == 0:
            send_one(db, checked.metrics, clock.current)
        reports[minute] = checked.check()
        assert reports[minute].healthy == (minute <= 30), (minute, reports[minute].body)
    assert reports[31].body["reasons"] == [
        "telegram: a due notification has waited 1860 s (limit 1800 s) and none left the"
        " outbox in the last minute"
    ]
    assert reports[35].body["reasons"] == [
        "telegram: a due notification has waited 2100 s (limit 1800 s) and at 1.0 a minute"
        " the 33 due need 1980 s more"
    ]


def test_quiet_hours_hold_non_urgent_rows_without_fault(db: Database) -> None:
    """Rows written at 20:00 wait for the end of the quiet hours (21:00-08:00): neither at
    night nor just after 08:00 are they late; urgent ones count at once."""
    enrol(db)
    quiet = QuietHours(time(21, 0), time(8, 0), CASA)
    evening = datetime.fromisoformat("2026-11-29T20:00:00+00:00")  # Casablanca is UTC+0
    clock = Clock(evening)  # the bot runs since 20:00
    checked = health(db, clock, quiet=quiet)
    broadcast(db, evening)
    clock.current = evening + timedelta(hours=5)  # 01:00, quiet
    assert checked.check().healthy

    broadcast(db, clock.current, urgent=True)  # urgent at 01:00: not held
    clock.current += timedelta(minutes=11)
    report = checked.check()
    assert report.body["reasons"] == [
        "telegram: notifications are due but none was handled for 660 s"
    ]
    assert report.body["channels"]["telegram"]["overdue_seconds"] == 660.0
    for _ in range(3):
        send_one(db, checked.metrics, clock.current, urgent_only=True)
    assert checked.check().healthy

    clock.current = evening + timedelta(hours=12, minutes=5)  # 08:05
    send_one(db, checked.metrics, clock.current)
    report = checked.check()
    assert report.healthy, report.body
    assert report.body["channels"]["telegram"]["overdue_seconds"] == 300.0
    assert report.body["channels"]["telegram"]["oldest_due_seconds"] == 12 * 3600 + 300


def test_last_quiet_end() -> None:
    quiet = QuietHours(time(21, 0), time(8, 0), CASA)
    at = datetime.fromisoformat
    assert last_quiet_end(quiet, at("2026-11-29T12:00:00+00:00")) == at("2026-11-29T08:00:00+00:00")
    assert last_quiet_end(quiet, at("2026-11-29T07:00:00+00:00")) == at("2026-11-28T08:00:00+00:00")
    assert (
        last_quiet_end(QuietHours(time(8, 0), time(8, 0), CASA), at("2026-11-29T12:00:00+00:00"))
        is None
    )


def test_a_channel_whose_requests_keep_failing_while_work_waits_is_503(db: Database) -> None:
    enrol(db)
    clock = Clock()
    checked = health(db, clock)
    metrics = checked.metrics
    metrics.call_succeeded("telegram")
    clock.current += timedelta(minutes=1)
    metrics.sent("telegram", "transient", 10.0)  # Telegram stops answering
    broadcast(db, clock.current)
    clock.current += timedelta(minutes=12)
    metrics.sent("telegram", "transient", 10.0)
    report = checked.check()
    assert report.status_code == 503
    assert report.body["reasons"] == [
        f"telegram: no successful request since {to_utc_text(NOW)}; requests have failed"
        " for 720 s while notifications wait"
    ]
    assert report.body["channels"]["telegram"]["seconds_since_success"] == 780.0

    metrics.sent("telegram", "sent", 0.05)  # back
    assert checked.check().healthy


def test_failures_without_work_waiting_are_not_a_fault(db: Database) -> None:
    clock = Clock()
    checked = health(db, clock)
    checked.metrics.sent("telegram", "transient", 10.0)
    clock.current += timedelta(hours=1)
    assert checked.check().healthy


def test_due_rows_that_no_dispatcher_handles_are_503(db: Database) -> None:
    enrol(db)
    clock = Clock()
    checked = health(db, clock)  # no outbox, nothing handled since the start
    broadcast(db, NOW)
    clock.current += timedelta(minutes=11)
    report = checked.check()
    assert report.status_code == 503
    assert report.body["reasons"] == [
        "telegram: notifications are due but none was handled for 660 s"
    ]


# --- the running bot ------------------------------------------------------------------------


@pytest.fixture
def bot_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


async def test_run_in_polling_mode_serves_healthz_and_metrics(
    tmp_path: Path, bot_api: FakeBotAPI
) -> None:
    """The web app listens even when nothing else needs it (no webhook, no WhatsApp)."""
    port = free_port()
    config = load(
        write_config(tmp_path, bot_api, port=port), environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN}
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(config, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(500):
                try:
                    health_response = await http.get("/healthz")
                    break
                except httpx.TransportError:
                    assert not serving.done(), serving
                    await asyncio.sleep(0.02)
            metrics_response = await http.get("/metrics")
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
    assert health_response.status_code == 200, health_response.text
    body = health_response.json()
    assert body["scheduler"] == {"running": True}
    assert body["channels"]["telegram"]["dispatcher_running"] is True
    assert metrics_response.status_code == 200
    assert metrics_response.headers["content-type"].startswith("text/plain")
    assert 'formabot_outbox_pending{channel="telegram"} 0.0' in metrics_response.text
    assert now_utc() - datetime.fromisoformat(body["checked_at"]) < timedelta(minutes=1)


def test_health_limits_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[health]\nmax_due_age = "2h"\nmax_silence = "5m"\n', encoding="utf-8")
    assert load(path, environ={}).health.max_silence == "5m"
    path.write_text('[health]\nmax_silence = "soon"\n', encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"\[health\] max_silence = 'soon': expected a"
        r" duration such as \"10m\"",
    ):
        load(path, environ={})
