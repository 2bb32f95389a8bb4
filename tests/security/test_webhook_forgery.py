"""Forged webhook requests leave no trace. What is already checked elsewhere, and not
repeated here: a missing, forged or wrong-token Twilio signature, one computed for the
proxy's URL, a changed field, an unsigned status callback (tests/whatsapp/
test_whatsapp_webhooks.py), and `formabot run` refusing a forged one
(tests/whatsapp/test_whatsapp_run.py); a wrong or missing Telegram secret token, refused
with 403 and logged (tests/telegram/test_telegram_webhook.py). Added here: what a forger
could hope to achieve with a refused request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlite_utils import Database

from storage import announcements, contacts, deliveries
from storage.audience import Audience
from storage.outbox import release
from tests.clock import Clock
from tests.outbox.outbox_fakes import add_contact
from tests.security.fingerprint import fingerprint
from tests.whatsapp.phone import inbound_form

NUMBER = "+212612345688"


async def test_a_forged_message_cannot_burn_the_sid_of_the_real_one(phone: Callable) -> None:
    """Twilio retries are recognised by their MessageSid: a forger who sent a sid first must
    not make the genuine message look like a retry."""
    amina = phone(NUMBER)
    form = inbound_form(NUMBER, "bonjour")
    assert (await amina.send(form, signature="forged=")).status_code == 403
    assert (await amina.send(form)).status_code == 200
    assert "Choisissez votre langue" in amina.text


async def test_a_forged_status_callback_changes_no_delivery(
    programme: Database, phone: Callable, clock: Clock
) -> None:
    """A forger claiming "blocked by the user" (63014) for a real message: the row stays
    sent and the number stays reachable."""
    contact = add_contact(programme, "Amina")
    contacts.attach_identity(programme, contact, channel="whatsapp", address=NUMBER)
    announcement = announcements.create(
        programme,
        texts={"*": "Nouvelle session"},
        audience=Audience(contacts=(contact,)),
        due_at=clock.now,
        created_by="test",
        now=clock.now,
    )
    release(programme, announcement, now=clock.now, grace=timedelta(hours=1))
    [row] = deliveries.of_announcement(programme, announcement)
    programme.execute(
        "UPDATE deliveries SET status = 'sent', provider_message_id = ? WHERE id = ?",
        ["SM" + "a" * 32, row.id],
    )
    before = fingerprint(programme)
    amina = phone(NUMBER)
    form = {
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "failed",
        "ErrorCode": "63014",
        "To": f"whatsapp:{NUMBER}",
        "AccountSid": "AC" + "0" * 32,
    }
    for signature in (None, "forged="):
        assert (await amina.post("/whatsapp/status", form, signature=signature)).status_code == 403
    assert fingerprint(programme) == before
    # the same callback from Twilio itself does what it says
    assert (await amina.post("/whatsapp/status", form)).status_code == 204
    assert deliveries.of_announcement(programme, announcement)[0].status == "failed"
    assert not contacts.identity(programme, "whatsapp", NUMBER).active
