"""What the running bot counts, for `/metrics` (Prometheus text format) and `/healthz`.

One `Metrics` per running bot, on a `CollectorRegistry` of its own (never the library's
global one): two bots in one test process count apart. The channels and the dispatchers
report to it (a message received, a request that succeeded or failed, a send's latency);
what the database already knows (deliveries by status, the outbox's backlog) is read at
scrape time by `OutboxCollector`, in a worker thread on a connection of its own (`scrape`),
so those numbers survive a restart and are never counted twice. The handlers layer reports
its failures through logging only: `count_handler_errors` counts those records.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage import monitoring
from storage.monitoring import Connect

log = logging.getLogger(__name__)

# From a fast local answer to Telegram's 10 s request timeout.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RETRY_OUTCOMES = ("retry_after", "transient")


class Metrics:
    """The counters of one running bot, and when each channel last had a request succeed
    (kept apart too, for `/healthz`)."""

    def __init__(
        self, channels: Sequence[str] = (), *, clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.registry = CollectorRegistry()
        registry = self.registry
        self.send_seconds = Histogram(
            "formabot_send_seconds",
            "Time to send one delivery, the platform's answer included, by channel.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.send_outcomes = Counter(
            "formabot_send_outcomes",
            "Delivery attempts by channel and outcome (sent,"
            " retry_after, transient, blocked, skipped, failed).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "formabot_rate_limited",
            "429 answers (Telegram RetryAfter, Twilio 429/63018)"
            " received by the outbox, by channel.",
            ["channel"],
            registry=registry,
        )
        self.retries = Counter(
            "formabot_send_retries",
            "Deliveries put back to be tried again (429, 5xx, timeout), by channel.",
            ["channel"],
            registry=registry,
        )
        self.inbound = Counter(
            "formabot_inbound_messages",
            "Messages and button presses received from people, by channel.",
            ["channel"],
            registry=registry,
        )
        self.handler_errors = Counter(
            "formabot_handler_errors",
            "Inbound messages whose handling raised an error"
            " (the person got an apology or nothing), by channel.",
            ["channel"],
            registry=registry,
        )
        self.last_success_gauge = Gauge(
            "formabot_last_success_timestamp_seconds",
            "When a request to the channel's platform last succeeded (Unix time).",
            ["channel"],
            registry=registry,
        )
        self._last_success: dict[str, float] = {}
        self._failing_since: dict[str, float] = {}
        self._last_handled: dict[str, float] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        for channel in channels:  # every series exists from the start, at 0
            for counter in (self.rate_limited, self.retries, self.inbound, self.handler_errors):
                counter.labels(channel)
            self.send_seconds.labels(channel)

    # --- reported by the channels -----------------------------------------------------------

    def received(self, channel: str) -> None:
        self.inbound.labels(channel).inc()

    def handler_failed(self, channel: str) -> None:
        self.handler_errors.labels(channel).inc()

    def call_succeeded(self, channel: str, now: float | None = None) -> None:
        """A request to the platform got a good answer: the channel works."""
        now = self.clock() if now is None else now
        self._last_success[channel] = now
        self._failing_since.pop(channel, None)
        self._child(self.last_success_gauge, channel).set(now)

    def call_failed(self, channel: str) -> None:
        """A request got no usable answer (5xx, timeout, 429): the channel may be down."""
        self._failing_since.setdefault(channel, self.clock())

    # --- reported by the dispatchers --------------------------------------------------------

    def sent(self, channel: str, outcome: str, seconds: float | None) -> None:
        """One delivery handled: its outcome, and how long the request took (None when no
        request was made)."""
        now = self._last_handled[channel] = self.clock()
        self._child(self.send_outcomes, channel, outcome).inc()
        if seconds is not None:
            self._child(self.send_seconds, channel).observe(seconds)
        if outcome == "sent":
            self.call_succeeded(channel, now)
        elif outcome in RETRY_OUTCOMES:
            self.call_failed(channel)
            if outcome == "retry_after":
                self._child(self.rate_limited, channel).inc()

    def throttled(self, channel: str) -> None:
        """A 429 outside the outbox (a reply to a person, refused then sent again)."""
        self.call_failed(channel)
        self._child(self.rate_limited, channel).inc()

    def retried(self, channel: str) -> None:
        self._child(self.retries, channel).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, looked up once: the dispatcher reports every send."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # --- read by /healthz ---------------------------------------------------------------------

    def last_success(self, channel: str) -> datetime | None:
        return _moment(self._last_success.get(channel))

    def failing_since(self, channel: str) -> datetime | None:
        """When the requests that have failed since the last success began failing."""
        return _moment(self._failing_since.get(channel))

    def last_handled(self, channel: str) -> datetime | None:
        """When the channel's dispatcher last finished with a delivery, whatever the outcome."""
        return _moment(self._last_handled.get(channel))

    # --- exposition ---------------------------------------------------------------------------

    def watch_outbox(
        self, connect: Connect, channels: Sequence[str], now: Callable[[], datetime]
    ) -> None:
        """Also expose what the database knows about deliveries, read at each scrape."""
        self.registry.register(OutboxCollector(connect, channels, now))

    def exposition(self) -> bytes:
        """The Prometheus text format; reads the database (see `scrape`)."""
        return generate_latest(self.registry)

    async def scrape(self) -> bytes:
        """`exposition` in a worker thread: counting a large outbox never stalls the loop."""
        return await asyncio.to_thread(self.exposition)

    def count_handler_errors(self, logger: str = "handlers") -> Callable[[], None]:
        """Count the errors the handlers layer logs (it catches them and apologises to the
        person); returns the function that stops counting."""
        handler = _ErrorCounter(self)
        target = logging.getLogger(logger)
        target.addHandler(handler)
        return lambda: target.removeHandler(handler)


def _moment(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


class _ErrorCounter(logging.Handler):
    """Counts ERROR records; the channel is the record's `channel` extra when it has one."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(level=logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.handler_failed(str(getattr(record, "channel", "unknown")))


class OutboxCollector(Collector):
    """Deliveries by channel and status, and each channel's backlog, from the database."""

    def __init__(
        self, connect: Connect, channels: Sequence[str], now: Callable[[], datetime]
    ) -> None:
        self.connect = connect
        self.channels = tuple(channels)
        self.now = now

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        deliveries, pending, due, oldest = self._families()
        try:
            with self.connect() as db:
                counts = monitoring.counts_by_status(db)
                now = self.now()
                backlogs = {
                    channel: monitoring.backlog(db, channel, now=now) for channel in self.channels
                }
        except sqlite3.Error as error:
            log.warning("metrics: the database could not be read: %s", error)
            return iter(())
        for (channel, status), count in sorted(counts.items()):
            deliveries.add_metric([channel, status], count)
        for channel, backlog in backlogs.items():
            pending.add_metric([channel], backlog.pending)
            due.add_metric([channel], backlog.due)
            age = (now - backlog.oldest_due).total_seconds() if backlog.oldest_due else 0.0
            oldest.add_metric([channel], max(age, 0.0))
        return iter((deliveries, pending, due, oldest))

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "formabot_deliveries",
                "Delivery rows by channel and status.",
                labels=["channel", "status"],
            ),
            GaugeMetricFamily(
                "formabot_outbox_pending", "Pending delivery rows, by channel.", labels=["channel"]
            ),
            GaugeMetricFamily(
                "formabot_outbox_due",
                "Pending delivery rows whose time has come, by channel.",
                labels=["channel"],
            ),
            GaugeMetricFamily(
                "formabot_outbox_oldest_due_seconds",
                "How long the oldest due pending row has waited, by channel (0 when none).",
                labels=["channel"],
            ),
        )
