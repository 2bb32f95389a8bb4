"""Who may act as a coordinator on a chat channel, and the polite refusal for everyone else.

`coordinator_router` calls `refusal` before any coordinator command or button (`/announce`,
`/report`, `/roster`…): when it returns replies, they are sent and nothing else happens; the
attempt is audited.
"""

from __future__ import annotations

from handlers import views
from handlers.context import Context
from handlers.i18n import t
from handlers.types import Inbound, Reply
from storage import audit, coordinators
from storage.contacts import Contact


def is_coordinator(context: Context, inbound: Inbound) -> bool:
    return coordinators.is_coordinator(context.db, channel=inbound.channel, address=inbound.address)


def actor(inbound: Inbound) -> str:
    """How the audit log names a person acting through a channel."""
    return f"{inbound.channel}:{inbound.address}"


def refusal(
    context: Context, inbound: Inbound, contact: Contact, command: str
) -> list[Reply] | None:
    """None for a coordinator; otherwise the refusal to send (and the attempt is audited)."""
    if is_coordinator(context, inbound):
        return None
    audit.record(context.db, actor=actor(inbound), action="coordination.refused", subject=command)
    return [
        views.menu(
            contact, t(contact.language, "Sorry, this is reserved for the training coordinators.")
        )
    ]
