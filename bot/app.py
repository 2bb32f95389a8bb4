"""The composition root: the one place that builds the handlers' `Context`, the channels and
the web app from a `Config`, and runs them together on one event loop until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shlex
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn
from starlette.routing import BaseRoute
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot import demo
from bot.channels import console
from bot.channels.telegram import TelegramChannel, build_application, lifecycle
from bot.channels.telegram.application import pace_of
from bot.channels.telegram.routes import TelegramWebhook, telegram_routes
from bot.channels.telegram.sender import TelegramSender
from bot.channels.whatsapp import WhatsAppSender, build_whatsapp, check_whatsapp, whatsapp_routes
from bot.channels.whatsapp.messages import INBOUND_PATH, STATUS_PATH
from bot.config import (
    DEFAULT_PATH,
    TELEGRAM_TOKEN_ENV,
    TELEGRAM_WEBHOOK_SECRET_ENV,
    TWILIO_SID_ENV,
    TWILIO_TOKEN_ENV,
    Config,
    ConfigError,
)
from bot.context import build_context
from bot.conversation import ConversationThread
from bot.durations import parse_duration
from bot.ops.health import Health, Thresholds
from bot.ops.metrics import Metrics
from bot.outbox.dispatcher import QuietHours, Sender
from bot.outbox.running import RunningOutbox
from bot.web import app as web
from bot.web.edge import BODY_SECONDS
from handlers import Context
from storage import monitoring
from storage.zones import now_utc, zone

log = logging.getLogger("formabot")


def build_telegram(
    config: Config,
    context: Context,
    metrics: Metrics | None = None,
    conversation: ConversationThread | None = None,
) -> TelegramChannel:
    return TelegramChannel(
        build_application(config.telegram), context, metrics=metrics, conversation=conversation
    )


def no_channel_message() -> str:
    return (
        f"no Telegram or WhatsApp credentials, so the console only: to add Telegram set"
        f" {TELEGRAM_TOKEN_ENV} (your bot's token from @BotFather), to add WhatsApp"
        f" {TWILIO_SID_ENV} and {TWILIO_TOKEN_ENV} (through Twilio), then restart; see"
        " docs/telegram.md and docs/whatsapp.md"
    )


def try_it_message(config: Config, *, empty: bool, foreground: bool) -> str:
    """How to try the bot now, with no credentials: the console, whose notifications this
    process sends."""
    formabot = "formabot"
    if config.path is not None and config.path != DEFAULT_PATH:
        formabot = f"formabot --config {shlex.quote(str(config.path))}"
    fill = (
        f"`{formabot} demo` fills this empty database with a demo programme, then " if empty else ""
    )
    person, who = ("amina", "Amina") if empty else ("NAME", "NAME")
    shell = f"`{formabot} shell --as {person}` talks to the bot as {who}"
    where = f"write below, or in another terminal {shell}" if foreground else shell
    return (
        f"try it now in the console: {fill}{where}; this process sends the console's notifications"
    )


def check_runnable(config: Config) -> None:
    """What `run` needs beyond a valid file: the webhook secret in webhook mode, and
    WhatsApp's sender and public URL when Twilio's credentials are set. No channel at all
    is fine: the console's outbox and the web app are served."""
    channels = config.served_channels
    if (
        "telegram" in channels
        and config.telegram.mode == "webhook"
        and not config.telegram.webhook_secret
    ):
        raise ConfigError(
            f"[telegram] mode = 'webhook': set {TELEGRAM_WEBHOOK_SECRET_ENV} to a random secret"
            " (1-256 characters among A-Z, a-z, 0-9, _ and -)"
        )
    if "whatsapp" in channels:
        check_whatsapp(config)


def outbox_channels(config: Config) -> tuple[str, ...]:
    """The channels whose outbox this process sends: those served, else the console's."""
    return config.served_channels or (console.CHANNEL,)


def build_telegram_sender(config: Config) -> TelegramSender:
    """The outbox's way to Telegram: its own HTTP pool, as wide as the dispatcher's
    concurrency, to the same `[telegram] base_url` as the conversation."""
    return TelegramSender(
        config.telegram.base_url,
        config.telegram.token,
        connections=config.dispatcher.concurrency,
        timeout=config.dispatcher.request_timeout,
    )


async def serve(
    config: Config,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event | None = None,
    foreground: bool = False,
) -> None:
    """Serve until `stop` is set, then stop cleanly: no update lost, no row half-written
    (handlers run to the end; signals only set `stop`). In order: each channel is prepared
    (Telegram's token checked, its menus set), the outbox starts (crash recovery, the
    scheduler, one dispatcher per channel), the web app listens, and only then are people's
    messages taken in; then `ready` is set. Each part is undone, in reverse order, whatever
    failed after it.

    With no platform's credentials, the outbox sends the console's rows (what a
    `formabot shell` person receives) and the log says how to add a platform and how to try
    the bot now (`foreground`: a console conversation runs in this terminal)."""
    check_runnable(config)
    channels = outbox_channels(config)
    context = build_context(config)
    metrics = Metrics(channels)
    async with contextlib.AsyncExitStack() as started:
        started.callback(context.db.close)
        started.callback(metrics.count_handler_errors())
        # The channels' database work, off the event loop on a connection of its own;
        # closed after them (they finish their messages first).
        conversation = ConversationThread.opening(context, config.bot.database)
        started.push_async_callback(conversation.close)
        served = Served(conversation=conversation)
        if "telegram" in channels:
            await _prepare_telegram(config, context, metrics, served, started)
        if "whatsapp" in channels:
            await _prepare_whatsapp(config, context, metrics, served, started)
        if console.CHANNEL in channels:
            served.senders.append(console.ConsoleSender())
        log.info(
            "formabot started: database %s, channels: %s",
            config.bot.database.resolve(),
            ", ".join(channels),
        )
        outbox = await _start_outbox(config, context, metrics, served, started)
        await _start_web(config, metrics, channels, outbox, served, started)
        await _take_messages_in(config, served)
        if console.CHANNEL in channels:
            log.info("%s", no_channel_message())
            log.info(
                "%s", try_it_message(config, empty=demo.is_empty(context.db), foreground=foreground)
            )
        settle_heap()
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("formabot stopping")
    log.info("formabot stopped")


@dataclass
class Served:
    """What the channels hand to the outbox and the web app while `serve` starts them."""

    conversation: ConversationThread | None = None
    senders: list[Sender] = field(default_factory=list)
    routes: list[BaseRoute] = field(default_factory=list)
    telegram: TelegramChannel | None = None
    telegram_sender: TelegramSender | None = None
    telegram_hook: TelegramWebhook | None = None


async def _prepare_telegram(
    config: Config,
    context: Context,
    metrics: Metrics,
    served: Served,
    started: contextlib.AsyncExitStack,
) -> None:
    telegram = served.telegram = build_telegram(config, context, metrics, served.conversation)
    started.push_async_callback(lifecycle.stop, telegram.application)
    await lifecycle.prepare(telegram.application, config.bot.default_language, db=context.db)
    sender = served.telegram_sender = build_telegram_sender(config)
    started.push_async_callback(sender.close)
    await sender.open()
    served.senders.append(sender)
    if config.telegram.mode == "webhook":
        served.telegram_hook = TelegramWebhook(
            config.telegram.webhook_route, config.telegram.webhook_secret, telegram.receive
        )


async def _prepare_whatsapp(
    config: Config,
    context: Context,
    metrics: Metrics,
    served: Served,
    started: contextlib.AsyncExitStack,
) -> None:
    whatsapp = build_whatsapp(config, context, metrics, served.conversation)
    started.push_async_callback(whatsapp.close)
    served.senders.append(WhatsAppSender(whatsapp))
    served.routes.extend(whatsapp_routes(whatsapp))


async def _start_outbox(
    config: Config,
    context: Context,
    metrics: Metrics,
    served: Served,
    started: contextlib.AsyncExitStack,
) -> RunningOutbox:
    outbox = RunningOutbox(config, context.db, served.senders, metrics=metrics)
    if served.telegram is not None and served.telegram_sender is not None:
        dispatcher = outbox.dispatchers[served.telegram_sender.channel]
        served.telegram_sender.pace = dispatcher.admit
        # Replies count against the same overall rate as the broadcast.
        pace_of(served.telegram.application).attach(
            dispatcher.bucket, dispatcher.pause, throttled=lambda: metrics.throttled("telegram")
        )
    for sender in served.senders:
        if isinstance(sender, WhatsAppSender):  # its replies count against the same rate
            sender.whatsapp.charge = outbox.dispatchers[sender.channel].bucket.charge
    started.push_async_callback(outbox.stop)
    await outbox.start()
    return outbox


async def _start_web(
    config: Config,
    metrics: Metrics,
    channels: tuple[str, ...],
    outbox: RunningOutbox,
    served: Served,
    started: contextlib.AsyncExitStack,
) -> None:
    metrics.watch_outbox(monitoring.opening(config.bot.database), channels, now_utc)
    health = build_health(config, metrics, channels, outbox)
    routes = [*served.routes]
    if served.telegram_hook is not None:
        routes += telegram_routes(served.telegram_hook)
    server = _Server(
        web.create_app(
            routes=routes,
            health=health.report,
            metrics=metrics.scrape,
            read_timeout=config.web.read_timeout,
        ),
        config.web.host,
        config.web.port,
        read_timeout=config.web.read_timeout,
    )
    started.push_async_callback(server.stop)
    await server.start()
    log.info("web app served on %s:%s (/healthz, /metrics)", config.web.host, config.web.port)


async def _take_messages_in(config: Config, served: Served) -> None:
    """Last: what people write is handled only once everything it may need runs."""
    if served.telegram is not None:
        application = served.telegram.application
        await lifecycle.receive(application)
        if served.telegram_hook is not None:
            await lifecycle.set_webhook(application, config.telegram)
            log.info(
                "telegram bot @%s: webhook %s on path %s",
                application.bot.username,
                config.telegram.webhook_url,
                served.telegram_hook.path,
            )
        else:
            log.info("telegram bot @%s: long polling", application.bot.username)
    if served.routes:
        public = config.whatsapp.public_url.rstrip("/")
        log.info(
            "whatsapp: webhooks expected at %s%s and %s%s",
            public,
            INBOUND_PATH,
            public,
            STATUS_PATH,
        )


def build_health(
    config: Config, metrics: Metrics, channels: tuple[str, ...], outbox: RunningOutbox
) -> Health:
    """`/healthz` for this process: its database, outbox and channels, `[health]` limits."""
    thresholds = Thresholds(
        max_due_age=parse_duration(config.health.max_due_age),
        max_silence=parse_duration(config.health.max_silence),
    )
    quiet = (
        QuietHours.parse(config.bot.quiet_hours, zone(config.bot.timezone))
        if config.served_channels
        else None
    )  # the console has none
    return Health(
        monitoring.opening(config.bot.database),
        metrics,
        channels,
        outbox=outbox,
        quiet=quiet,
        thresholds=thresholds,
        disk=config.bot.database.resolve().parent,
    )


def settle_heap() -> None:
    """What the start built lives as long as the process: out of the garbage collector's
    sight with it (`gc.freeze`). Otherwise each full collection walks those ~90,000 objects
    (PTB, aiohttp, the handlers' catalogues), stalling the loop ~40 ms mid-broadcast; the
    requests it held back then leave together and a platform policing its rate answers 429
    (measured by tests/bench/broadcast.py at 1,000 msg/s)."""
    gc.collect()
    gc.freeze()


class _Server:
    """uvicorn on a socket we bind ourselves (a busy port is a clear error, not sys.exit) and
    without its own signal handling: `serve` owns SIGINT/SIGTERM. Open to anyone, it bounds
    what a client may hold: headers of at most `MAX_HEADER_BYTES`, sent within
    `read_timeout` seconds (`_DeadlineH11Protocol`; the body's own limits are the app's,
    `bot.web.edge.read_body`), idle keep-alive connections closed after `KEEP_ALIVE_SECONDS`,
    and past `MAX_CONCURRENT` connections or requests a 503 instead of more memory."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, *, read_timeout: float = BODY_SECONDS
    ) -> None:
        protocol = type("_Deadline", (_DeadlineH11Protocol,), {"header_seconds": read_timeout})
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            lifespan="off",
            access_log=False,
            http=protocol,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            limit_concurrency=MAX_CONCURRENT,
        )
        self._server = _QuietServer(config)
        self._host, self._port = host, port
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    async def start(self) -> None:
        try:
            self._socket = listening_socket(self._host, self._port)
        except OSError as error:
            raise ConfigError(
                f"[web] cannot listen on {self._host}:{self._port}: {error.strerror}"
            ) from error
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            await self._task  # raises what stopped it
            raise ConfigError(f"[web] the server on {self._host}:{self._port} did not start")

    async def stop(self) -> None:
        """Safe after a failed start: what made it fail was raised by `start` already."""
        self._server.should_exit = True
        try:
            if self._task is not None:
                await asyncio.gather(self._task, return_exceptions=True)
        finally:
            if self._socket is not None:
                self._socket.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port. Created with an explicit IPPROTO_TCP, because asyncio
    only disables Nagle's algorithm on sockets that say so: `socket.create_server` does not,
    and every response would then wait ~40 ms for a delayed ACK."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


MAX_HEADER_BYTES = 16 * 1024  # a request line and headers; Twilio's and Telegram's are < 2 KiB
KEEP_ALIVE_SECONDS = 5
MAX_CONCURRENT = 500


class _DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for a request's headers: uvicorn times out an
    idle keep-alive connection, but not one that never finishes its headers (or trickles
    them a byte at a time), and hundreds of those would stay open for ever. The deadline
    runs from the connection (or the end of the last response) to the headers' end; a
    request being served is left to the app's body limits."""

    header_seconds: float = BODY_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._deadline = None
        serving = self.cycle is not None and not self.cycle.response_complete
        if not serving and not self.transport.is_closing():
            log.warning(
                "web: closed a connection from %s that sent no complete request"
                " headers within %g s",
                self.client[0] if self.client else "unknown",
                self.header_seconds,
            )
            self.transport.close()


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
