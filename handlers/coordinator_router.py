"""The coordinators' tools in chat: `/announce`, `/scheduled`, `/report`, `/roster`.

The main router asks `claims` first, so these work at any point — also for a coordinator who
has not finished their own onboarding (they are staff, known by channel identity, not by the
profile questions). For anyone else every command and button here gets the polite refusal
of `handlers.coordination`, audited, and nothing happens; someone in the middle of
onboarding is then asked the current question again.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers import announce, coordination, onboarding, report, roster, scheduled
from handlers.announce_draft import clear, load
from handlers.context import Context
from handlers.types import Inbound, Reply
from storage.contacts import Contact

COMMANDS = frozenset({"announce", "scheduled", "report", "roster"})
TOOL_ACTIONS = frozenset({"sc_list", "sc_ask", "sc_yes", "rp", "ro"})
ACTIONS = announce.ACTIONS | TOOL_ACTIONS


def claims(context: Context, contact: Contact, inbound: Inbound) -> bool:
    """Whether this input is for the coordinators' tools. A draft announcement holds typed
    text and `/cancel`; any other command or button leaves the draft behind (it is dropped,
    so that later text is not taken for part of it)."""
    composing = load(contact) is not None
    if inbound.command is not None:
        command = inbound.command.lower()
        if command in COMMANDS or (command == "cancel" and composing):
            return True
    elif inbound.action is not None:
        if inbound.action.name in ACTIONS:
            return True
    elif inbound.text is not None and composing:
        return True
    if composing:
        clear(context, contact)
    return False


def handle(context: Context, contact: Contact, inbound: Inbound) -> list[Reply]:
    """The answer to what `claims` took, for a coordinator; the refusal for anyone else."""
    what = inbound.command or (inbound.action.name if inbound.action else "text")
    refused = coordination.refusal(context, inbound, contact, what.lower())
    if refused is not None:
        clear(context, contact)
        if onboarding.next_step(context, contact) is not None:
            return onboarding.prompt(context, contact, lead=refused[0].text)
        return refused
    actor = coordination.actor(inbound)
    if inbound.command is not None:
        return _command(context, contact, inbound.command.lower(), inbound.argument.strip(), actor)
    if inbound.action is not None:
        first = inbound.action.args[0] if inbound.action.args else ""
        return _press(context, contact, inbound.action.name, first, actor)
    return announce.answer(context, contact, inbound.text or "")


def _command(
    context: Context, contact: Contact, command: str, argument: str, actor: str
) -> list[Reply]:
    commands: dict[str, Callable[[], list[Reply]]] = {
        "announce": lambda: announce.start(context, contact, actor),
        "cancel": lambda: announce.cancel(context, contact, actor),
        "scheduled": lambda: scheduled.listing(context, contact),
        "report": lambda: report.show(context, contact, argument, actor),
        "roster": lambda: roster.export(context, contact, argument, actor),
    }
    return commands[command]()


def _press(context: Context, contact: Contact, name: str, first: str, actor: str) -> list[Reply]:
    buttons: dict[str, Callable[[], list[Reply]]] = {
        "sc_list": lambda: scheduled.listing(context, contact, replaces_menu=True),
        "sc_ask": lambda: scheduled.ask_cancel(context, contact, first),
        "sc_yes": lambda: scheduled.cancel(context, contact, first, actor),
        "rp": lambda: report.show(context, contact, first, actor),
        "ro": lambda: roster.export(context, contact, first, actor),
    }
    if name in buttons:
        return buttons[name]()
    return announce.press(context, contact, name, first, actor)
