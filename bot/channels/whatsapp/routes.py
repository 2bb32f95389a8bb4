"""The Twilio endpoints on the project's web app: inbound messages, status callbacks, media.

Every POST must carry a valid `X-Twilio-Signature`, computed by Twilio over the URL it
called — `[whatsapp] public_url` + path, not the URL a reverse proxy shows us — and the form
fields, with the account's auth token. Anything else is refused with 403, logged, and not
handled. The body is read first, within the web edge's limits (`bot.web.edge.read_body`: 413
over `FORM_MAX_BYTES`, 408 when it trickles), since the signature covers it. A message is
acknowledged at once with an empty TwiML `<Response/>`; a retried `MessageSid` is
acknowledged and not handled again (the channel checks, off the event loop). A signed
request whose fields no Twilio request has (an `ErrorCode` that is not a small number) is
answered 400 and logged once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.messages import INBOUND_PATH, MEDIA_PATH, STATUS_PATH
from bot.web.edge import BodyRefused, client_of, read_body
from storage.db import unavailable

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
EMPTY_TWIML = str(MessagingResponse())
FORM_MAX_BYTES = 64 * 1024
# Twilio's error codes are five digits (30003, 63016); a few more leave room for new ones.
ERROR_CODE = re.compile(r"[0-9]{1,9}")


def whatsapp_routes(channel: WhatsAppChannel) -> list[Route]:
    """The routes to add to the web app for `channel`."""
    validator = RequestValidator(channel.settings.auth_token)
    public = channel.settings.public_url.rstrip("/")
    routes = [
        Route(INBOUND_PATH, _inbound(channel, validator, public), methods=["POST"]),
        Route(STATUS_PATH, _status(channel, validator, public), methods=["POST"]),
    ]
    if channel.media is not None:
        routes.append(Route(MEDIA_PATH + "/{token}.ics", _media(channel), methods=["GET"]))
    return routes


async def signed_form(
    request: Request, validator: RequestValidator, public: str
) -> ImmutableMultiDict[str, str] | Response:
    """The posted form when Twilio signed it; else the response refusing it (logged): 413 or
    408 for a body past the edge's limits, 403 for a missing or wrong signature. Parsed here
    (Twilio posts application/x-www-form-urlencoded), so no multipart parser is needed."""
    client = client_of(request)
    try:
        body = await read_body(request, limit=FORM_MAX_BYTES)
    except BodyRefused as refused:
        log.warning(
            "whatsapp %s: refused a request from %s: %s", request.url.path, client, refused.reason
        )
        return refused.response()
    form = ImmutableMultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        log.warning(
            "whatsapp %s: refused a request from %s without signature", request.url.path, client
        )
        return _forbidden()
    url = public + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not validator.validate(url, form, signature):
        log.warning(
            "whatsapp %s: refused a request from %s with a wrong signature",
            request.url.path,
            client,
        )
        return _forbidden()
    return form


def _forbidden() -> Response:
    return PlainTextResponse("forbidden", status_code=403)


def _inbound(channel: WhatsAppChannel, validator: RequestValidator, public: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """Acknowledge at once; the conversation continues in the background."""
        form = await signed_form(request, validator, public)
        if isinstance(form, Response):
            return form
        fields = {key: str(value) for key, value in form.items()}
        if not fields.get("MessageSid", ""):
            return PlainTextResponse("MessageSid missing", status_code=400)
        channel.receive(fields)  # a Twilio retry is recognised there, off the event loop
        return Response(EMPTY_TWIML, media_type="text/xml")

    return endpoint


def _status(channel: WhatsAppChannel, validator: RequestValidator, public: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """Apply a delivery status (off the event loop, see `WhatsAppChannel.on_status`)."""
        form = await signed_form(request, validator, public)
        if isinstance(form, Response):
            return form
        fields = {key: str(value) for key, value in form.items()}
        code = fields.get("ErrorCode", "").strip()
        if code and not ERROR_CODE.fullmatch(code):
            log.warning(
                "whatsapp %s: refused a status callback from %s: ErrorCode %r is not"
                " a Twilio error code",
                request.url.path,
                client_of(request),
                code[:20],
            )
            return PlainTextResponse("ErrorCode is not a number", status_code=400)
        try:
            await channel.status_received(fields)
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning(
                "whatsapp %s: status of %s not recorded (database %s: %s); Twilio"
                " may post it again",
                request.url.path,
                fields.get("MessageSid", "?")[:40],
                unavailable(error),
                error,
            )
            return PlainTextResponse("database unavailable, try again later", status_code=503)
        return Response(status_code=204)

    return endpoint


def _media(channel: WhatsAppChannel) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """A published `.ics` file, for Twilio to fetch (the token is the secret)."""
        assert channel.media is not None
        attachment = channel.media.get(request.path_params["token"])
        if attachment is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(
            attachment.content,
            media_type=attachment.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{attachment.filename}"'},
        )

    return endpoint
