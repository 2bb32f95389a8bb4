"""`/metrics`: what the dispatchers and channels count (latency, 429s, retries, messages
received, handler errors) and what the database knows at scrape time (deliveries by
status, the outbox's backlog), each bot on a registry of its own."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlite_utils import Database

from bot import app
from bot.config import load
from bot.ops.metrics import Metrics
from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, SendResult
from handlers.types import Reply
from storage.deliveries import Delivery
from storage.monitoring import borrowed
from storage.zones import now_utc, zone
from tests.conftest import NOW
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio
from tests.running import write_both_channels_config
from tests.telegram.support import free_port
from tests.test_health import broadcast, enrol
from tests.test_logs import ENV, enrol_zineb, talk_broadcast_and_block

CASA = zone("Africa/Casablanca")


class Platform:
    """Answers from a script, then "sent"."""

    def __init__(self, channel: str, *answers: SendResult) -> None:
        self.channel = channel
        self.answers = deque(answers)

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        await asyncio.sleep(0.001)
        return self.answers.popleft() if self.answers else SendResult.sent("m")


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_the_dispatcher_counts_outcomes_latency_429s_and_retries(db: Database) -> None:
    enrol(db)
    broadcast(db, now_utc())
    metrics = Metrics(["telegram"])
    platform = Platform("telegram", SendResult.transient("HTTP 502"), SendResult.rate_limited(0.01))
    settings = DispatcherSettings(rate_per_second=1000, per_chat_per_second=0, backoff_seconds=0.01)
    await Dispatcher(db, platform, zone=CASA, settings=settings, metrics=metrics).drain()
    telegram = {"channel": "telegram"}
    assert sample(metrics, "formabot_send_outcomes_total", outcome="sent", **telegram) == 3
    assert sample(metrics, "formabot_send_outcomes_total", outcome="transient", **telegram) == 1
    assert sample(metrics, "formabot_send_outcomes_total", outcome="retry_after", **telegram) == 1
    assert sample(metrics, "formabot_rate_limited_total", **telegram) == 1
    assert sample(metrics, "formabot_send_retries_total", **telegram) == 2
    assert sample(metrics, "formabot_send_seconds_count", **telegram) == 5
    assert 0 < sample(metrics, "formabot_send_seconds_sum", **telegram) < 5
    assert sample(metrics, "formabot_last_success_timestamp_seconds", **telegram) > 0
    assert metrics.failing_since("telegram") is None  # the last answer was a success

    metrics.watch_outbox(borrowed(db), ["telegram"], now_utc)
    assert sample(metrics, "formabot_deliveries", status="sent", **telegram) == 3
    assert sample(metrics, "formabot_outbox_pending", **telegram) == 0


def test_the_backlog_is_read_from_the_database_at_scrape_time(db: Database) -> None:
    enrol(db)
    broadcast(db, NOW - timedelta(minutes=2))
    metrics = Metrics(["telegram", "whatsapp"])
    metrics.watch_outbox(borrowed(db), ["telegram", "whatsapp"], lambda: NOW)
    assert sample(metrics, "formabot_deliveries", channel="telegram", status="pending") == 3
    assert sample(metrics, "formabot_outbox_pending", channel="telegram") == 3
    assert sample(metrics, "formabot_outbox_due", channel="telegram") == 3
    assert sample(metrics, "formabot_outbox_oldest_due_seconds", channel="telegram") == 120
    assert sample(metrics, "formabot_outbox_pending", channel="whatsapp") == 0
    text = metrics.exposition().decode()
    assert "# TYPE formabot_deliveries gauge" in text
    assert 'formabot_handler_errors_total{channel="whatsapp"} 0.0' in text  # there from 0


def test_each_bot_counts_on_a_registry_of_its_own() -> None:
    one, other = Metrics(["telegram"]), Metrics(["telegram"])
    one.received("telegram")
    assert sample(one, "formabot_inbound_messages_total", channel="telegram") == 1
    assert sample(other, "formabot_inbound_messages_total", channel="telegram") == 0
    assert (
        REGISTRY.get_sample_value("formabot_inbound_messages_total", {"channel": "telegram"})
        is None
    )


def test_errors_the_handlers_log_are_counted_by_channel() -> None:
    """The handlers catch a failure, apologise to the person and log it with its channel."""
    metrics = Metrics(["whatsapp"])
    stop_counting = metrics.count_handler_errors()
    router = logging.getLogger("handlers.router")
    router.error("handler failed for contact 7", extra={"channel": "whatsapp"})
    router.warning("not an error")
    stop_counting()
    router.error("handler failed for contact 8", extra={"channel": "whatsapp"})
    assert sample(metrics, "formabot_handler_errors_total", channel="whatsapp") == 1


# --- the running bot ------------------------------------------------------------------------


async def test_a_running_bot_counts_messages_and_deliveries_on_both_channels(
    tmp_path: Path, own_bot_api: FakeBotAPI, own_twilio: FakeTwilio
) -> None:
    port = free_port()
    config = load(write_both_channels_config(tmp_path, own_bot_api, own_twilio, port), environ=ENV)
    enrol_zineb(tmp_path / "formabot.db")
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(config, stop))
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(500):
                try:
                    await http.get("/healthz")
                    break
                except httpx.TransportError:
                    assert not serving.done(), serving
                    await asyncio.sleep(0.02)
            await asyncio.to_thread(
                talk_broadcast_and_block, url, own_bot_api, own_twilio, tmp_path / "formabot.db"
            )
            scraped = (await http.get("/metrics")).text
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
    assert 'formabot_inbound_messages_total{channel="telegram"} 3.0' in scraped
    assert 'formabot_inbound_messages_total{channel="whatsapp"} 2.0' in scraped
    assert 'formabot_handler_errors_total{channel="telegram"} 0.0' in scraped
    values = samples(scraped)
    assert total(values, "formabot_deliveries", status="sent") == 1  # Zineb's one channel
    assert total(values, "formabot_send_seconds_count") == 1
    assert total(values, "formabot_send_outcomes_total", outcome="sent") == 1
    assert values[("formabot_last_success_timestamp_seconds", (("channel", "whatsapp"),))] > 0
    assert values[("formabot_last_success_timestamp_seconds", (("channel", "telegram"),))] > 0


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(values: Samples, name: str, **labels: str) -> float:
    return sum(
        value
        for (key, found), value in values.items()
        if key == name and set(labels.items()) <= set(found)
    )
