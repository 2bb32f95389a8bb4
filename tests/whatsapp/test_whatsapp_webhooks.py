"""The Twilio endpoints: signatures checked against the public URL, retries handled once,
status callbacks changing rows and identities, calendar files served as media."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlite_utils import Database
from starlette.applications import Starlette

from bot.channels.whatsapp import WhatsAppChannel, whatsapp_routes
from bot.config import WhatsAppSettings
from handlers import Context
from storage import contacts
from tests.fakes.twilio_api import FakeTwilio
from tests.whatsapp.conftest import with_media
from tests.whatsapp.phone import Phone, inbound_form, sign


async def test_a_valid_signature_is_answered_with_empty_twiml(amina: Phone) -> None:
    response = await amina.send(inbound_form(amina.number, "salam"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert len(amina.received) == 1  # the answer went through the REST API


@pytest.mark.parametrize("signature", [None, "", "forged+signature=", "wrong-token"])
async def test_a_missing_or_forged_signature_is_refused_and_nothing_handled(
    amina: Phone, programme: Database, caplog: pytest.LogCaptureFixture, signature: str | None
) -> None:
    form = inbound_form(amina.number, "salam")
    if signature == "wrong-token":
        signature = sign("/whatsapp/inbound", form, token="not-the-auth-token")
    with caplog.at_level(logging.WARNING):
        response = await amina.send(form, signature=signature)
    assert response.status_code == 403
    assert amina.received == []
    assert contacts.identity(programme, "whatsapp", amina.number) is None
    assert "refused a request" in caplog.text


async def test_a_signature_for_the_proxy_url_is_refused(amina: Phone) -> None:
    """Twilio signs the URL it called (public_url), not the one the proxy forwards to."""
    from twilio.request_validator import RequestValidator

    from tests.fakes.twilio_api import AUTH_TOKEN

    form = inbound_form(amina.number, "salam")
    internal = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://127.0.0.1:8080/whatsapp/inbound", form
    )
    response = await amina.send(form, signature=internal)
    assert response.status_code == 403


async def test_a_changed_field_breaks_the_signature(amina: Phone) -> None:
    form = inbound_form(amina.number, "salam")
    signature = sign("/whatsapp/inbound", form)
    response = await amina.send({**form, "Body": "STOP"}, signature=signature)
    assert response.status_code == 403


async def test_a_retried_message_sid_is_handled_once(amina: Phone) -> None:
    form = inbound_form(amina.number, "salam")
    first = await amina.send(form)
    assert len(amina.received) == 1
    second = await amina.send(form)
    assert first.status_code == second.status_code == 200
    assert second.text == first.text
    assert amina.received == []


async def test_status_callbacks_need_a_signature(amina: Phone) -> None:
    form = {
        "MessageSid": "SM" + "f" * 32,
        "MessageStatus": "failed",
        "ErrorCode": "63014",
        "To": f"whatsapp:{amina.number}",
    }
    response = await amina.post("/whatsapp/status", form, signature=None)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("63003", "not a WhatsApp number"),
        ("63024", "not a valid WhatsApp recipient"),
        ("63014", "blocked by the user"),
    ],
)
async def test_unreachable_numbers_become_inactive(
    amina: Phone, programme: Database, code: str, reason: str
) -> None:
    await amina.says("salam")
    form = {
        "MessageSid": "SM" + "e" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": code,
        "To": f"whatsapp:{amina.number}",
        "From": "whatsapp:+14155238886",
    }
    response = await amina.post("/whatsapp/status", form)
    assert response.status_code == 204
    identity = contacts.identity(programme, "whatsapp", amina.number)
    assert identity is not None and not identity.active
    row = programme.execute(
        "SELECT inactive_reason FROM identities WHERE id = ?", [identity.id]
    ).fetchone()
    assert reason in row[0]


async def test_media_url_when_a_public_url_serves_calendar_files(
    settings: WhatsAppSettings, context: Context, twilio: FakeTwilio
) -> None:
    channel = WhatsAppChannel(with_media(settings), context)
    app = Starlette(routes=whatsapp_routes(channel))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080"
        ) as http:
            phone = Phone(http, channel, twilio, "+212612345678")
            for text in (
                "salam",
                "1",
                "1",
                "Amina",
                "atlas",
                "1",
                "1",
                "2",
                "terminé",
                "/sessions",
                "1",
                "ajouter a mon agenda",
            ):
                await phone.says(text)
            media = [
                message.form["MediaUrl"][0]
                for message in twilio.messages
                if message.form.get("MediaUrl")
            ]
            assert len(media) == 1
            assert media[0].startswith("https://bot.example.org/whatsapp/media/")
            served = await http.get(media[0].removeprefix("https://bot.example.org"))
            assert served.status_code == 200
            assert served.headers["content-type"].startswith("text/calendar")
            assert b"BEGIN:VCALENDAR" in served.content
            assert (await http.get("/whatsapp/media/nothing.ics")).status_code == 404
    finally:
        await channel.close()


async def test_the_number_is_not_taken_from_someone_who_has_it(
    amina: Phone, programme: Database
) -> None:
    owner = contacts.create(programme, name="Imported", phone=amina.number)
    contacts.attach_identity(programme, owner, channel="telegram", address="999")
    await amina.says("salam")
    identity = contacts.identity(programme, "whatsapp", amina.number)
    assert identity is not None and identity.contact_id != owner
    assert contacts.get(programme, identity.contact_id).phone is None
