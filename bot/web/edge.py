"""The web edge, open to anyone: a body is read only through `read_body`, which refuses a
declared `Content-Length` over the route's limit before reading a byte, stops reading (413)
as soon as a body without one passes it, and gives up (408) on a body that trickles in
slower than `BODY_SECONDS` — before any signature or secret is checked, so that an unsigned
request costs at most the limit in memory and `BODY_SECONDS` of a connection. Headers are
bounded by the server (`bot.app`'s uvicorn settings). Every channel's routes read through it.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

# How long a client may take to send a body once its headers arrived: Twilio and Telegram
# send a few kilobytes at once; only a client holding a connection open goes slower.
BODY_SECONDS = 10.0


class BodyRefused(Exception):
    """A request body not read: too large (413), too slow (408), or cut off (400)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason

    def response(self) -> Response:
        text = {413: "payload too large", 408: "request timeout"}.get(
            self.status_code, "bad request"
        )
        return PlainTextResponse(
            text, status_code=self.status_code, headers={"Connection": "close"}
        )


async def read_body(request: Request, *, limit: int, seconds: float | None = None) -> bytes:
    """The body of `request`, at most `limit` bytes, read within `seconds` (by default the
    app's `read_timeout`, else `BODY_SECONDS`); `BodyRefused` otherwise. A declared
    `Content-Length` over `limit` is refused before a byte is read."""
    if seconds is None:
        seconds = float(getattr(request.app.state, "read_timeout", BODY_SECONDS))
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and (len(declared) > 18 or int(declared) > limit)
    ):
        raise BodyRefused(413, f"declared {declared[:20]} bytes, more than {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413, f"more than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(
            408, f"body not received within {seconds:g} s ({size} bytes read)"
        ) from None
    except ClientDisconnect:
        raise BodyRefused(400, f"client disconnected after {size} bytes") from None
    return b"".join(chunks)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
