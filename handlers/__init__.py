"""What the bot does for each thing a person says or presses, the same on every channel.

`handle(context, inbound)` is the one entry point; channels render the replies it returns.
Never imports a channel, scheduler or web library: imports point bot → handlers → storage
(docs/architecture.md).
"""

from __future__ import annotations

from handlers.context import Context
from handlers.router import handle
from handlers.types import Action, Attachment, Choice, Inbound, Reply

__all__ = ["Action", "Attachment", "Choice", "Context", "Inbound", "Reply", "handle"]
