"""Console rows outside the shell: a deployment that serves a platform never leaves them
waiting (its running bot settles them like any channel it does not serve)."""

from __future__ import annotations

from sqlite_utils import Database

from storage import broadcasts, contacts, deliveries
from storage.audience import ALL_CHANNELS, Audience
from tests.conftest import NOW
from tests.outbox.outbox_fakes import add_contact


def test_a_console_row_is_moved_to_the_persons_served_channel_or_skipped(
    programme: Database,
) -> None:
    both = add_contact(programme, "Amina", telegram="101")
    contacts.attach_identity(programme, both, channel="console", address="amina")
    alone = add_contact(programme, "Karim")
    contacts.attach_identity(programme, alone, channel="console", address="karim")
    published = broadcasts.publish(  # as a CLI run with no credentials writes it
        programme,
        texts={"*": "Bonjour"},
        audience=Audience(contacts=(both, alone)),
        created_by="cli:salma",
        due_at=NOW,
        now=NOW,
        channels=ALL_CHANNELS,
    )
    rows = deliveries.of_announcement(programme, published.announcement_id)
    assert {(row.channel, row.address) for row in rows} == {
        ("telegram", "101"),
        ("console", "karim"),
    }

    settled = deliveries.settle_unserved(programme, served=("telegram",), now=NOW)

    assert settled == 1
    [karim] = [
        row
        for row in deliveries.of_announcement(programme, published.announcement_id)
        if row.contact_id == alone
    ]
    assert (karim.status, karim.reason) == ("skipped", "console is not served by this deployment")
