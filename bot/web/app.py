"""The project's one web app (Starlette on uvicorn): `/healthz`, `/metrics`, and the routes
each channel brings (Telegram's webhook, Twilio's endpoints). Channel-neutral: a channel hands
in its routes, which read bodies through `bot.web.edge`; health and metrics hand in what
computes their answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.ops.health import Report
from bot.web.edge import BODY_SECONDS


def create_app(
    *,
    routes: Sequence[BaseRoute] = (),
    health: Callable[[], Awaitable[Report]] | None = None,
    metrics: Callable[[], Awaitable[bytes]] | None = None,
    read_timeout: float = BODY_SECONDS,
) -> Starlette:
    """The app: `/healthz` (the `health` report, else a bare "ok"), `/metrics` when given,
    and the channels' `routes`. A body must arrive within
    `read_timeout` seconds (`[web] read_timeout`)."""
    served: list[BaseRoute] = [
        Route("/healthz", _healthz(health) if health else _alive, methods=["GET"])
    ]
    if metrics is not None:
        served.append(Route("/metrics", _metrics(metrics), methods=["GET"]))
    served.extend(routes)
    app = Starlette(routes=served)
    app.state.read_timeout = read_timeout
    return app


async def _alive(_: Request) -> Response:
    return PlainTextResponse("ok")


def _healthz(health: Callable[[], Awaitable[Report]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        """200 and the details when healthy; 503 with the reasons when not."""
        report = await health()
        return JSONResponse(
            report.body, status_code=report.status_code, headers={"Cache-Control": "no-store"}
        )

    return endpoint


def _metrics(scrape: Callable[[], Awaitable[bytes]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        """Prometheus text format."""
        return Response(await scrape(), media_type=CONTENT_TYPE_LATEST)

    return endpoint
