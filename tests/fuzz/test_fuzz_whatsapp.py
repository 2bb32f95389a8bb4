"""What reaches the Twilio endpoints: signed and unsigned forms, with any fields, from any
sender, saying anything.

Unsigned, wrongly signed or oversized: 403, nothing handled, nothing sent, the database as it
was. Signed: the message is acknowledged with empty TwiML, then a person with a WhatsApp
number gets an answer through the REST API, and nothing is logged at ERROR. A status
callback with any fields is taken without an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp import WhatsAppChannel, whatsapp_routes
from bot.channels.whatsapp.routes import EMPTY_TWIML, ERROR_CODE, FORM_MAX_BYTES
from bot.config import WhatsAppSettings
from handlers import Context
from handlers.flood import FloodGate
from handlers.phones import InvalidPhone, normalize_phone
from handlers.types import storable
from tests.conftest import NOW
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.fuzz.database import Snapshot, changed, fingerprint
from tests.fuzz.errors import Errors
from tests.fuzz.fuzzing import FUZZ, HUGE_TEXT, SPECIAL, TEXT
from tests.fuzz.tally import count

PUBLIC_URL = "https://bot.example.org"
ONBOARDED = "+212612345678"  # went through the whole onboarding in French, by numbers
HALFWAY = "+212612345679"  # has only said hello: asked for the language
NEWCOMER = "+212612345680"  # never wrote


@dataclass
class Endpoints:
    runner: asyncio.Runner
    http: httpx.AsyncClient
    channel: WhatsAppChannel
    twilio: FakeTwilio
    snapshot: Snapshot

    def post(self, path: str, body: bytes, signature: str | None) -> httpx.Response:
        """Post `body` as Twilio would, then wait until the message was handled."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        response = self.runner.run(self.http.post(path, content=body, headers=headers))
        self.runner.run(self.channel.join())
        return response


def sign(path: str, fields: list[tuple[str, str]], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, dict(fields))


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def endpoints(programme: Database, twilio: FakeTwilio) -> Iterator[Endpoints]:
    settings_ = WhatsAppSettings(
        api_base_url=twilio.base_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_=SENDER,
        public_url=PUBLIC_URL,
        timeout_seconds=2.0,
    )
    context = Context(db=programme, clock=lambda: NOW, flood=FloodGate(burst=10**9))
    twilio.reset()
    with asyncio.Runner() as runner:
        channel = runner.run(_channel(settings_, context))
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=Starlette(routes=whatsapp_routes(channel))),
            base_url="http://127.0.0.1:8080",
        )
        endpoints = Endpoints(runner, http, channel, twilio, Snapshot(programme))
        try:
            for number, texts in (
                (ONBOARDED, ("salam", "1", "1", "Amina", "atlas", "1", "1", "2", "terminé")),
                (HALFWAY, ("salam",)),
            ):
                for text in texts:
                    fields = _inbound(number, text)
                    endpoints.post(
                        "/whatsapp/inbound",
                        urlencode(fields).encode(),
                        sign("/whatsapp/inbound", fields),
                    )
            assert "Amina" in "".join(twilio.bodies(ONBOARDED))
            endpoints.snapshot = Snapshot(programme)
            yield endpoints
        finally:
            endpoints.snapshot.close()
            runner.run(http.aclose())
            runner.run(channel.close())


async def _channel(settings_: WhatsAppSettings, context: Context) -> WhatsAppChannel:
    return WhatsAppChannel(settings_, context)  # its HTTP client belongs to the runner's loop


_sids = iter(range(1, 10**9))


def _inbound(number: str, body: str) -> list[tuple[str, str]]:
    return [
        ("MessageSid", f"SM{next(_sids):032x}"),
        ("AccountSid", ACCOUNT_SID),
        ("From", f"whatsapp:{number}"),
        ("To", SENDER),
        ("Body", body),
        ("NumMedia", "0"),
    ]


KNOWN_SENDERS = st.sampled_from(
    [f"whatsapp:{ONBOARDED}", f"whatsapp:{HALFWAY}", f"whatsapp:{NEWCOMER}"]
)
SENDERS = st.one_of(
    KNOWN_SENDERS,
    KNOWN_SENDERS,
    KNOWN_SENDERS,
    KNOWN_SENDERS,
    st.sampled_from(
        [
            "",
            "whatsapp:",
            "whatsapp:+",
            "whatsapp:0612345681",
            ONBOARDED,
            "sms:+212612345681",
            "whatsapp:+2126123456789",
            "WhatsApp:+212612345681",
        ]
    ),
    TEXT.map(lambda text: f"whatsapp:{text}"),
)
BODIES = st.one_of(
    TEXT,
    HUGE_TEXT,
    st.text(SPECIAL, max_size=6),
    st.integers(-1, 30).map(str),
    st.sampled_from(
        [
            "STOP",
            "arrêt",
            "توقف",
            "MENU",
            "aide",
            "START",
            "lier 123456",
            "/sessions",
            "/start session_tig-2026-12",
            "/report 99999999999999999999",
            "/announce",
            "1.",
            " 2 )",
            "oui",
            "terminé",
            "Soudage",
        ]
    ),
)
PAYLOADS = st.one_of(
    st.just(""),
    TEXT,
    st.sampled_from(
        [
            "att_yes",
            "att_no",
            "s",
            "reg:tig-2026-12",
            "menu",
            "lang:ar",
            "stop",
            "tp:soudage",
            "co:999999999999999999999",
            "ss:999999999999999999",
            "x" * 70,
        ]
    ),
)
EXTRA = st.lists(
    st.tuples(
        st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "MediaUrl0",
                    "NumMedia",
                    "WaId",
                    "ProfileName",
                    "Latitude",
                    "OriginalRepliedMessageSid",
                    "Body",
                    "From",
                ]
            ),
        ),
        TEXT,
    ),
    max_size=3,
)


@st.composite
def inbound_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)):  # now and then no MessageSid at all
        sid = draw(st.one_of(st.just(f"SM{next(_sids):032x}"), TEXT))
        fields.append(("MessageSid", sid))
    fields += [
        ("AccountSid", ACCOUNT_SID),
        ("From", draw(SENDERS)),
        ("To", SENDER),
        ("Body", draw(BODIES)),
        ("NumMedia", "0"),
    ]
    if payload := draw(PAYLOADS):
        fields += [
            ("ButtonPayload", payload),
            ("ButtonText", draw(TEXT)),
            ("OriginalRepliedMessageSid", draw(st.one_of(TEXT, st.just("SM" + "0" * 32)))),
        ]
    extra = draw(EXTRA)
    if draw(st.integers(0, 9)):  # mostly fields Twilio would not repeat
        extra = [(key, value) for key, value in extra if key not in dict(fields)]
    # Twilio posts UTF-8: a lone surrogate cannot travel (invalid bytes are another property).
    return [(storable(key), storable(value)) for key, value in fields + extra]


SIGNATURES = st.sampled_from(
    ["valid"] * 10 + ["none", "empty", "forged", "other token", "proxy url"]
)


def _signature(kind: str, path: str, fields: list[tuple[str, str]]) -> str | None:
    return {
        "valid": lambda: sign(path, fields),
        "none": lambda: None,
        "empty": lambda: "",
        "forged": lambda: "forged+signature=",
        "other token": lambda: sign(path, fields, token="not-the-auth-token"),
        "proxy url": lambda: RequestValidator(AUTH_TOKEN).compute_signature(
            "http://127.0.0.1:8080" + path, dict(fields)
        ),
    }[kind]()


def _encode(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


@settings(FUZZ, max_examples=350)
@given(fields=inbound_forms(), signature=SIGNATURES)
def test_any_message_posted_to_the_inbound_endpoint(
    endpoints: Endpoints, errors: Errors, fields: list[tuple[str, str]], signature: str
) -> None:
    count("whatsapp /whatsapp/inbound")
    endpoints.snapshot.restore()
    endpoints.twilio.reset()
    body = _encode(fields)
    response = endpoints.post(
        "/whatsapp/inbound", body, _signature(signature, "/whatsapp/inbound", fields)
    )
    errors.check(fields)
    tables = changed(endpoints.snapshot.fingerprint, fingerprint(endpoints.channel.context.db))
    form = dict(fields)
    event(f"inbound: {response.status_code}")
    if len(body) > FORM_MAX_BYTES:  # refused before a signature is checked
        assert response.status_code == 413 and tables == [], response.status_code
        return
    if signature != "valid" or len(form) < len(fields):
        # Refused: a repeated field is signed differently by Twilio's validator and us.
        if response.status_code == 403:
            assert tables == [] and endpoints.twilio.messages == []
            return
        assert signature == "valid" and len(form) < len(fields), response.status_code
    if not form.get("MessageSid"):
        assert response.status_code == 400 and tables == []
        return
    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    sender = form["From"]
    try:
        number = (
            normalize_phone(sender.removeprefix("whatsapp:"))
            if sender.startswith("whatsapp:")
            else None
        )
    except InvalidPhone:
        number = None
    if number is None:  # not a WhatsApp number: logged and ignored, its sid remembered
        assert tables in ([], ["inbound_messages"]) and endpoints.twilio.messages == []
        return
    event("inbound: answered on WhatsApp")
    assert endpoints.twilio.bodies(number), f"no answer to {fields!r}"


STATUS_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "MessageSid",
                "MessageStatus",
                "SmsStatus",
                "ErrorCode",
                "To",
                "From",
                "ErrorMessage",
                "ChannelToAddress",
            ]
        ),
        st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "delivered",
                    "read",
                    "failed",
                    "undelivered",
                    "sent",
                    "63014",
                    "63003",
                    "63018",
                    "30008",
                    "99999999999999999999999",
                    "-1",
                    "٣",
                    f"whatsapp:{ONBOARDED}",
                    ONBOARDED,
                    "SM" + "0" * 32,
                ]
            ),
        ),
    ),
    max_size=8,
)


@settings(FUZZ, max_examples=150)
@given(
    fields=STATUS_FIELDS.map(lambda pairs: [(key, storable(value)) for key, value in pairs]),
    signature=SIGNATURES,
)
def test_any_status_callback(
    endpoints: Endpoints, errors: Errors, fields: list[tuple[str, str]], signature: str
) -> None:
    count("whatsapp /whatsapp/status")
    endpoints.snapshot.restore()
    body = _encode(fields)
    response = endpoints.post(
        "/whatsapp/status", body, _signature(signature, "/whatsapp/status", fields)
    )
    errors.check(fields)
    tables = changed(endpoints.snapshot.fingerprint, fingerprint(endpoints.channel.context.db))
    if response.status_code == 403:
        assert tables == []
        return
    assert signature == "valid"
    code = dict(fields).get("ErrorCode", "").strip()
    if code and not ERROR_CODE.fullmatch(code):  # no Twilio error code: refused, logged
        assert response.status_code == 400 and tables == [], response.status_code
        return
    assert response.status_code == 204


@settings(FUZZ, max_examples=100)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.builds(
            lambda piece, times: piece * times,  # around the 64 KiB cap
            st.binary(min_size=1, max_size=8),
            st.integers(FORM_MAX_BYTES // 8, FORM_MAX_BYTES // 4),
        ),
    ),
    path=st.sampled_from(["/whatsapp/inbound", "/whatsapp/status"]),
    signed=st.booleans(),
)
def test_any_bytes_posted_to_the_endpoints(
    endpoints: Endpoints, errors: Errors, body: bytes, path: str, signed: bool
) -> None:
    count(f"whatsapp {path}")
    endpoints.snapshot.restore()
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    response = endpoints.post(path, body, sign(path, fields) if signed else None)
    errors.check(body)
    assert response.status_code in (200, 204, 400, 403, 413)
