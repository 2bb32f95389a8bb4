"""The composition root: the one place that builds the handlers' `Context`, the channels and
the web app from a `Config`, and runs them together on one event loop until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Iterator

import uvicorn

from bot import web
from bot.channels.telegram import TelegramChannel, build_application, lifecycle
from bot.channels.telegram.sender import TelegramSender
from bot.config import TELEGRAM_WEBHOOK_SECRET_ENV, Config, ConfigError
from bot.context import build_context
from bot.outbox import RunningOutbox
from handlers import Context

log = logging.getLogger("formabot")


def build_telegram(config: Config, context: Context) -> TelegramChannel:
    return TelegramChannel(build_application(config.telegram), context)


def enabled_channels(config: Config) -> list[str]:
    """The channels this process serves: those whose credentials are set."""
    return ["telegram"] if config.telegram.token else []


def check_runnable(config: Config) -> None:
    """What `run` needs beyond a valid file: a channel, and the webhook secret in webhook mode."""
    if not enabled_channels(config):
        raise ConfigError("no channel to serve")
    if config.telegram.mode == "webhook" and not config.telegram.webhook_secret:
        raise ConfigError(
            f"[telegram] mode = 'webhook': set {TELEGRAM_WEBHOOK_SECRET_ENV} to a random secret"
            " (1-256 characters among A-Z, a-z, 0-9, _ and -)"
        )


def build_telegram_sender(config: Config) -> TelegramSender:
    """The outbox's way to Telegram: its own HTTP pool, as wide as the dispatcher's
    concurrency, to the same `[telegram] base_url` as the conversation."""
    return TelegramSender(config.telegram.base_url, config.telegram.token,
                          connections=config.dispatcher.concurrency,
                          timeout=config.dispatcher.request_timeout)


async def serve(config: Config, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, then stop cleanly: no update lost, no row half-written
    (handlers run to the end; signals only set `stop`). The outbox runs beside the
    conversation on the same loop: the scheduler releases what falls due, the dispatcher
    sends it, and a stop lets the requests in flight finish."""
    check_runnable(config)
    context = build_context(config)
    telegram = build_telegram(config, context)
    application = telegram.application
    server: _Server | None = None
    sender = build_telegram_sender(config)
    outbox: RunningOutbox | None = None
    try:
        await lifecycle.start(application, config.bot.default_language)
        log.info(
            "formabot started: telegram bot @%s, mode %s, database %s, channels: %s",
            application.bot.username, config.telegram.mode, config.bot.database.resolve(),
            ", ".join(enabled_channels(config)),
        )
        await sender.open()
        outbox = RunningOutbox(config, context.db, [sender])
        sender.pace = outbox.dispatchers[sender.channel].admit
        await outbox.start()
        if config.telegram.mode == "webhook":
            hook = web.TelegramWebhook(
                config.telegram.webhook_route, config.telegram.webhook_secret, telegram.receive
            )
            server = _Server(web.create_app(telegram=hook), config.web.host, config.web.port)
            await server.start()
            await lifecycle.set_webhook(application, config.telegram)
            log.info("telegram webhook %s served on %s:%s%s", config.telegram.webhook_url,
                     config.web.host, config.web.port, hook.path)
        settle_heap()
        await stop.wait()
        log.info("formabot stopping")
    finally:
        if server is not None:
            await server.stop()
        if outbox is not None:
            await outbox.stop()
        await sender.close()
        await lifecycle.stop(application)
        context.db.close()
    log.info("formabot stopped")


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
    without its own signal handling: `serve` owns SIGINT/SIGTERM."""

    def __init__(self, app: object, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off")
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
        self._server.should_exit = True
        if self._task is not None:
            await self._task
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


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
