"""Notifications on WhatsApp through the outbox: the 24-hour window (free text or template),
skips and fallbacks, status callbacks changing rows, quick-reply payloads, error codes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.channels.whatsapp import WhatsAppChannel, WhatsAppSender
from bot.outbox.dispatcher import Dispatcher, DispatcherSettings
from storage import announcements, companies, contacts, deliveries, registrations, subscriptions
from storage.audience import Audience
from storage.outbox import release
from storage.zones import to_utc_text, zone
from tests.conftest import NOW
from tests.fakes.twilio_api import FakeTwilio
from tests.whatsapp.conftest import TEMPLATES
from tests.whatsapp.phone import Phone, inbound_form

NUMBER = "+212612345678"


class Clock:
    """Moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(seconds, 0))
        await asyncio.sleep(0)


def person(
    db: Database,
    *,
    whatsapp: str | None = NUMBER,
    telegram: str | None = None,
    last_whatsapp: timedelta | None = timedelta(hours=1),
    language: str = "fr",
    opted_out: bool = False,
) -> int:
    contact_id = contacts.create(
        db,
        name="Amina",
        role="manager",
        language=language,
        company_id=companies.by_member_id(db, "M001").id,
        consent_at=to_utc_text(NOW - timedelta(days=30)),
        opted_out_at=to_utc_text(NOW) if opted_out else None,
        state={"welcomed": True, "topics_chosen": True},
    )
    subscriptions.subscribe(db, contact_id, "soudage")
    if telegram:
        contacts.attach_identity(db, contact_id, channel="telegram", address=telegram)
        db.execute(
            "UPDATE identities SET last_inbound_at = ? WHERE address = ?",
            [to_utc_text(NOW - timedelta(days=3)), telegram],
        )
    if whatsapp:
        contacts.attach_identity(db, contact_id, channel="whatsapp", address=whatsapp)
        if last_whatsapp is not None:
            db.execute(
                "UPDATE identities SET last_inbound_at = ? WHERE address = ?",
                [to_utc_text(NOW - last_whatsapp), whatsapp],
            )
    return contact_id


def notify(
    db: Database,
    clock: Clock,
    *,
    kind: str = "announcement",
    session_id: str | None = None,
    contact_id: int | None = None,
) -> int:
    audience = Audience(contacts=(contact_id,)) if contact_id else Audience()
    announcement_id = announcements.create(
        db,
        kind=kind,
        texts={"*": "Nouvelle session de soudage"},
        audience=audience,
        due_at=clock.now(),
        created_by="test",
        now=clock.now(),
        session_id=session_id,
    )
    release(db, announcement_id, now=clock.now(), grace=timedelta(hours=6))
    return announcement_id


async def drain(db: Database, channel: WhatsAppChannel, clock: Clock) -> None:
    sender = WhatsAppSender(channel, clock=clock.now)
    await Dispatcher(
        db,
        sender,
        zone=zone("Africa/Casablanca"),
        clock=clock,
        settings=DispatcherSettings(rate_per_second=80, concurrency=4),
    ).drain()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def row(db: Database, announcement_id: int, channel: str = "whatsapp") -> deliveries.Delivery:
    found = [d for d in deliveries.of_announcement(db, announcement_id) if d.channel == channel]
    assert len(found) == 1, found
    return found[0]


async def test_inside_the_window_free_text_with_numbered_options(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme)
    announcement_id = notify(programme, clock, session_id="tig-2026-12")
    await drain(programme, channel, clock)
    (message,) = twilio.messages
    assert "Nouvelle session de soudage" in message.field("Body")
    assert "1. M’inscrire" in message.field("Body") and "Répondez 1 ou 2." in message.field("Body")
    assert message.field("ContentSid") is None
    sent = row(programme, announcement_id)
    assert sent.status == "sent" and sent.provider_message_id.startswith("SM")


async def test_an_answer_to_a_notification_picks_its_option(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    contact_id = person(programme)
    notify(programme, clock, session_id="tig-2026-12")
    await drain(programme, channel, clock)
    text = await amina.says("1")  # "M'inscrire" under the announcement
    assert "inscription est enregistrée" in text
    assert registrations.of(programme, contact_id, "tig-2026-12").status == "registered"


async def test_outside_the_window_a_template_with_content_variables(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme, last_whatsapp=timedelta(hours=30))
    announcement_id = notify(programme, clock, kind="reminder", session_id="tig-2026-12")
    await drain(programme, channel, clock)
    (message,) = twilio.messages
    assert message.field("ContentSid") == TEMPLATES["reminder"]["fr"]
    assert message.field("Body") is None
    variables = json.loads(message.field("ContentVariables"))
    assert variables["1"] == "Soudage TIG – niveau 1"
    assert "10 décembre 2026" in variables["2"] and variables["3"] == "Casablanca"
    assert all("\n" not in value for value in variables.values())
    assert row(programme, announcement_id).status == "sent"


async def test_never_written_on_whatsapp_means_outside_the_window(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme, last_whatsapp=None)  # imported number, never wrote
    notify(programme, clock, kind="reminder", session_id="tig-2026-12")
    await drain(programme, channel, clock)
    assert twilio.messages[0].field("ContentSid") == TEMPLATES["reminder"]["fr"]


async def test_outside_the_window_without_template_the_row_is_skipped(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme, last_whatsapp=timedelta(days=2))
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert twilio.messages == []
    skipped = row(programme, announcement_id)
    assert skipped.status == "skipped"
    assert "no WhatsApp template for announcement in fr" in skipped.reason


async def test_skipped_on_whatsapp_goes_to_the_linked_telegram(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme, telegram="101", last_whatsapp=timedelta(days=1, hours=1))
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert twilio.messages == []
    assert "sent on telegram instead" in row(programme, announcement_id).reason
    assert row(programme, announcement_id, "telegram").status == "pending"


async def test_stop_then_an_announcement_sends_nothing(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    person(programme)
    await amina.says("STOP")
    twilio.reset()
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert twilio.messages == []
    assert deliveries.of_announcement(programme, announcement_id) == []


async def test_an_old_no_button_after_consenting_stops_every_announcement(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    contact_id = person(programme)
    notify(programme, clock)
    await drain(programme, channel, clock)
    assert len(twilio.messages) == 1  # consented: the announcement reaches her
    # The consent question's "Non, merci", pressed long after consenting.
    await amina.send(
        inbound_form(NUMBER, "Non, merci", ButtonText="Non, merci", ButtonPayload="consent:no")
    )
    assert "vous ne recevrez plus aucune notification" in amina.text
    stored = contacts.get(programme, contact_id)
    assert stored is not None and not stored.may_be_notified
    twilio.reset()
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert twilio.messages == []
    assert deliveries.of_announcement(programme, announcement_id) == []


async def test_an_old_yes_button_after_stop_asks_before_anything_is_sent_again(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    contact_id = person(programme)
    await amina.says("ARRÊT")
    await amina.send(inbound_form(NUMBER, "Oui, j’accepte", ButtonPayload="consent:yes"))
    assert "Voulez-vous les réactiver" in amina.text
    twilio.reset()
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert deliveries.of_announcement(programme, announcement_id) == []
    await amina.says("1")  # Réactiver les notifications
    assert "les notifications sont réactivées" in amina.text
    stored = contacts.get(programme, contact_id)
    assert stored is not None and stored.may_be_notified


async def test_a_linked_contact_receives_one_copy(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme, telegram="101")
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert [d.channel for d in deliveries.of_announcement(programme, announcement_id)] == [
        "whatsapp"
    ]
    assert len(twilio.messages) == 1


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(63003, "blocked"), (63024, "blocked"), (63014, "blocked"), (21211, "blocked")],
)
async def test_refused_numbers_fall_back_to_telegram(
    programme: Database,
    channel: WhatsAppChannel,
    twilio: FakeTwilio,
    clock: Clock,
    code: int,
    outcome: str,
) -> None:
    person(programme, telegram="101")
    twilio.refuse_for(NUMBER, 400, code, "refused")
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    failed = row(programme, announcement_id)
    assert failed.status == "failed" and "sent on telegram instead" in failed.reason
    assert not contacts.identity(programme, "whatsapp", NUMBER).active
    assert row(programme, announcement_id, "telegram").status == "pending"


async def test_rate_refusal_pauses_then_sends(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme)
    twilio.refuse_next(429, 20429, "Too Many Requests")
    announcement_id = notify(programme, clock)
    start = clock.now()
    await drain(programme, channel, clock)
    assert len(twilio.messages) == 2
    assert row(programme, announcement_id).status == "sent"
    assert clock.now() - start >= timedelta(seconds=1)


async def test_server_errors_are_retried(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock
) -> None:
    person(programme)
    twilio.refuse_next(503, 20500, "Service Unavailable", times=2)
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    assert len(twilio.messages) == 3
    assert row(programme, announcement_id).status == "sent"


async def status(phone: Phone, sid: str, state: str, code: str = "") -> None:
    form = {
        "MessageSid": sid,
        "MessageStatus": state,
        "To": f"whatsapp:{phone.number}",
        "AccountSid": "AC" + "0123456789abcdef" * 2,
    }
    if code:
        form["ErrorCode"] = code
    response = await phone.post("/whatsapp/status", form)
    assert response.status_code == 204


async def test_status_callbacks_change_the_row(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    person(programme)
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    sid = row(programme, announcement_id).provider_message_id
    await status(amina, sid, "sent")
    assert row(programme, announcement_id).status == "sent"
    await status(amina, sid, "delivered")
    assert row(programme, announcement_id).status == "delivered"
    await status(amina, sid, "read")
    await status(amina, sid, "delivered")  # late, out of order: read stays
    assert row(programme, announcement_id).status == "read"


async def test_callback_63016_outside_the_window_fails_the_row(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    person(programme)
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    await status(amina, row(programme, announcement_id).provider_message_id, "failed", "63016")
    failed = row(programme, announcement_id)
    assert failed.status == "failed" and "24-hour window" in failed.reason
    assert contacts.identity(programme, "whatsapp", NUMBER).active


@pytest.mark.parametrize("code", ["63003", "63024", "63014"])
async def test_callback_unreachable_fails_and_reroutes(
    programme: Database,
    channel: WhatsAppChannel,
    twilio: FakeTwilio,
    clock: Clock,
    amina: Phone,
    code: str,
) -> None:
    person(programme, telegram="101")
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    await status(amina, row(programme, announcement_id).provider_message_id, "undelivered", code)
    assert row(programme, announcement_id).status == "failed"
    assert not contacts.identity(programme, "whatsapp", NUMBER).active
    assert row(programme, announcement_id, "telegram").status == "pending"


async def test_callback_63018_requeues_and_pauses_the_channel(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    person(programme)
    announcement_id = notify(programme, clock)
    await drain(programme, channel, clock)
    await status(amina, row(programme, announcement_id).provider_message_id, "failed", "63018")
    requeued = row(programme, announcement_id)
    assert requeued.status == "pending" and requeued.provider_message_id is None
    assert channel.paused_for(NOW) == 60
    await drain(programme, channel, clock)  # waits out the pause on the fake clock
    assert row(programme, announcement_id).status == "sent"
    assert len(twilio.messages) == 2


async def test_quick_reply_payload_confirms_attendance(
    programme: Database, channel: WhatsAppChannel, twilio: FakeTwilio, clock: Clock, amina: Phone
) -> None:
    contact_id = person(programme, last_whatsapp=timedelta(days=3))
    registrations.register(programme, contact_id, "tig-2026-12", 5)
    announcement_id = notify(
        programme, clock, kind="confirm_request", session_id="tig-2026-12", contact_id=contact_id
    )
    await drain(programme, channel, clock)
    assert twilio.messages[0].field("ContentSid") == TEMPLATES["confirm_request"]["fr"]
    sid = row(programme, announcement_id).provider_message_id
    response = await amina.send(
        inbound_form(
            NUMBER,
            "Je confirme",
            ButtonText="Je confirme",
            ButtonPayload="att_yes",
            OriginalRepliedMessageSid=sid,
        )
    )
    assert response.status_code == 200
    assert "confirmée" in amina.text
    assert registrations.of(programme, contact_id, "tig-2026-12").status == "confirmed"


async def test_a_payload_carrying_its_session_needs_no_original_message(
    programme: Database, channel: WhatsAppChannel, amina: Phone
) -> None:
    contact_id = person(programme)
    registrations.register(programme, contact_id, "tig-2026-12", 5)
    await amina.send(
        inbound_form(NUMBER, "Je ne peux pas venir", ButtonPayload="att_no:tig-2026-12")
    )
    assert registrations.of(programme, contact_id, "tig-2026-12").status == "declined"
