"""The twilio SDK's async client as formabot configures it: our base URL whatever the
environment says, a real timeout, no deprecation warning, Twilio's answers classified."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from twilio.base.exceptions import TwilioRestException

from bot.channels.whatsapp.messages import Outbound, TwilioMessages, classify
from bot.config import WhatsAppSettings
from tests.fakes.twilio_api import ACCOUNT_SID, SENDER, FakeTwilio

TO = "+212612345678"


async def send(settings: WhatsAppSettings, message: Outbound) -> str:
    messages = TwilioMessages(settings)
    try:
        return await messages.send(TO, message)
    finally:
        await messages.close()


async def test_a_message_goes_to_the_configured_base_url(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    sid = await send(settings, Outbound(body="Bonjour"))
    (request,) = twilio.requests
    assert sid.startswith("SM") and len(sid) == 34
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, settings.auth_token)
    assert request.form == {
        "To": [f"whatsapp:{TO}"],
        "From": [SENDER],
        "Body": ["Bonjour"],
        "StatusCallback": ["https://bot.example.org/whatsapp/status"],
    }


async def test_twilio_edge_and_region_do_not_move_the_requests(
    settings: WhatsAppSettings, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    await send(settings, Outbound(body="Bonjour"))
    assert len(twilio.requests) == 1


async def test_a_path_prefix_in_the_base_url_is_kept(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    await send(
        replace(settings, api_base_url=f"{twilio.base_url}/proxy/"), Outbound(body="Bonjour")
    )
    assert twilio.requests[0].path == f"/proxy/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    twilio.requests.clear()  # the contract check knows Twilio's paths, not our proxy's


async def test_a_messaging_service_instead_of_a_sender(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    service = "MG" + "a" * 32
    await send(replace(settings, from_="", messaging_service_sid=service), Outbound(body="Hi"))
    form = twilio.requests[0].form
    assert form["MessagingServiceSid"] == [service] and "From" not in form


async def test_a_template_and_media(settings: WhatsAppSettings, twilio: FakeTwilio) -> None:
    await send(settings, Outbound(content_sid="HX" + "1" * 32, content_variables='{"1": "x"}'))
    await send(settings, Outbound(media_url=("https://bot.example.org/whatsapp/media/a.ics",)))
    template, media = twilio.requests
    assert template.form["ContentSid"] == ["HX" + "1" * 32]
    assert template.form["ContentVariables"] == ['{"1": "x"}'] and "Body" not in template.form
    assert media.form["MediaUrl"] == ["https://bot.example.org/whatsapp/media/a.ics"]


async def test_a_hung_request_times_out(settings: WhatsAppSettings, twilio: FakeTwilio) -> None:
    twilio.hang_next()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await send(replace(settings, timeout_seconds=0.2), Outbound(body="Bonjour"))
    assert time.monotonic() - started < 1.5
    assert classify(TimeoutError()).outcome == "transient"


async def test_connection_refused_is_transient(settings: WhatsAppSettings) -> None:
    with pytest.raises(Exception) as caught:
        await send(replace(settings, api_base_url="http://127.0.0.1:9"), Outbound(body="x"))
    assert classify(caught.value).outcome == "transient"


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (429, 20429, "retry_after"),
        (400, 63018, "retry_after"),
        (400, 63003, "blocked"),
        (400, 63014, "blocked"),
        (400, 63024, "blocked"),
        (400, 21211, "blocked"),
        (500, 20500, "transient"),
        (503, 20503, "transient"),
        (401, 20003, "transient"),
        (400, 21617, "failed"),
        (400, 63016, "failed"),
    ],
)
async def test_twilio_refusals_are_classified(
    settings: WhatsAppSettings, twilio: FakeTwilio, status: int, code: int, outcome: str
) -> None:
    twilio.refuse_next(status, code, "refused")
    with pytest.raises(TwilioRestException) as caught:
        await send(settings, Outbound(body="Bonjour"))
    assert caught.value.code == code
    assert classify(caught.value).outcome == outcome


async def test_a_number_quoted_by_twilio_stays_out_of_the_reason(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    twilio.refuse_next(
        400, 21408, "Permission to send to the 'To' number +212 6 12-34-56-78 has not been enabled."
    )
    with pytest.raises(TwilioRestException) as caught:
        await send(settings, Outbound(body="Bonjour"))
    result = classify(caught.value)
    assert "12-34-56-78" not in result.reason
    assert "the 'To' number [number] has not been enabled" in result.reason


async def test_concurrent_sends_share_one_session(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    messages = TwilioMessages(settings)
    try:
        sids = await asyncio.gather(*(messages.send(TO, Outbound(body=f"n{n}")) for n in range(20)))
    finally:
        await messages.close()
    assert len(set(sids)) == 20
