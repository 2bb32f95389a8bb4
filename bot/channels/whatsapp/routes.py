"""The Twilio endpoints on the project's web app: inbound messages, status callbacks, media.

Every POST must carry a valid `X-Twilio-Signature`, computed by Twilio over the URL it
called — `[whatsapp] public_url` + path, not the URL a reverse proxy shows us — and the form
fields, with the account's auth token. Anything else is refused with 403, logged, and not
handled. A message is acknowledged at once with an empty TwiML `<Response/>`; a retried
`MessageSid` is acknowledged and not handled again.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
EMPTY_TWIML = str(MessagingResponse())
FORM_MAX_BYTES = 64 * 1024


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


async def signed_form(request: Request, validator: RequestValidator,
                      public: str) -> ImmutableMultiDict[str, str] | None:
    """The posted form when Twilio signed it; None (logged) otherwise. Parsed here (Twilio
    posts application/x-www-form-urlencoded), so no multipart parser is needed."""
    body = await request.body()
    client = request.client.host if request.client else "unknown"
    if len(body) > FORM_MAX_BYTES:
        log.warning("whatsapp %s: refused a request from %s of %d bytes", request.url.path,
                    client, len(body))
        return None
    form = ImmutableMultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        log.warning("whatsapp %s: refused a request from %s without signature",
                    request.url.path, client)
        return None
    url = public + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not validator.validate(url, form, signature):
        log.warning("whatsapp %s: refused a request from %s with a wrong signature",
                    request.url.path, client)
        return None
    return form


def _forbidden() -> Response:
    return PlainTextResponse("forbidden", status_code=403)


def _inbound(channel: WhatsAppChannel, validator: RequestValidator, public: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """Acknowledge at once; the conversation continues in the background."""
        form = await signed_form(request, validator, public)
        if form is None:
            return _forbidden()
        fields = {key: str(value) for key, value in form.items()}
        sid = fields.get("MessageSid", "")
        if not sid:
            return PlainTextResponse("MessageSid missing", status_code=400)
        if channel.first_time(sid):
            channel.receive(fields)
        else:
            log.info("whatsapp: message %s already handled (Twilio retry)", sid)
        return Response(EMPTY_TWIML, media_type="text/xml")

    return endpoint


def _status(channel: WhatsAppChannel, validator: RequestValidator, public: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        form = await signed_form(request, validator, public)
        if form is None:
            return _forbidden()
        channel.on_status({key: str(value) for key, value in form.items()})
        return Response(status_code=204)

    return endpoint


def _media(channel: WhatsAppChannel) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """A published `.ics` file, for Twilio to fetch (the token is the secret)."""
        assert channel.media is not None
        attachment = channel.media.get(request.path_params["token"])
        if attachment is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(attachment.content, media_type=attachment.mime_type, headers={
            "Content-Disposition": f'attachment; filename="{attachment.filename}"'})

    return endpoint
