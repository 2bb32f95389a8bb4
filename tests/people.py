"""A person talking to the handlers: sends inputs, remembers the buttons shown, presses them."""

from __future__ import annotations

from handlers import Action, Context, Inbound, Reply, handle


class Person:
    def __init__(self, context: Context, address: str = "amina", channel: str = "console"):
        self.context = context
        self.address = address
        self.channel = channel
        self.replies: list[Reply] = []

    def _send(self, **what: object) -> list[Reply]:
        self.replies = handle(self.context, Inbound(self.channel, self.address, **what))
        return self.replies

    def command(self, command: str, argument: str = "") -> list[Reply]:
        return self._send(command=command, argument=argument)

    def says(self, text: str) -> list[Reply]:
        return self._send(text=text)

    def shares_phone(self, phone: str) -> list[Reply]:
        return self._send(phone=phone)

    def presses(self, label: str) -> list[Reply]:
        """Press the last shown button whose label contains `label`."""
        for reply in reversed(self.replies):
            for choice in reply.choices:
                if label in choice.label:
                    return self._send(action=choice.action)
        raise AssertionError(f"no button {label!r} among {self.labels}")

    def presses_old(self, action: Action) -> list[Reply]:
        """Press a button of an older message, still in the chat (Telegram keeps them)."""
        return self._send(action=action)

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def labels(self) -> list[str]:
        return [choice.label for reply in self.replies for choice in reply.choices]

    def onboard(
        self,
        *,
        language: str = "English",
        name: str = "Amina Alaoui",
        company: str = "Atlas Fonderie",
        role: str = "Manager",
        topics: tuple[str, ...] = ("Welding",),
    ) -> None:
        self.command("start")
        self.presses(language)
        self.presses(_CONSENT[language])
        self.says(name)
        self.says(company[:5])
        self.presses(company)
        self.presses(_ROLES[language][role])
        for topic in topics:
            self.presses(topic)
        self.presses(_DONE[language])


_CONSENT = {"English": "Yes, I agree", "Français": "Oui", "العربية": "نعم"}
_ROLES = {
    "English": {"Manager": "Manager", "Trainee": "Trainee"},
    "Français": {"Manager": "Responsable", "Trainee": "Stagiaire"},
    "العربية": {"Manager": "مسير", "Trainee": "متدرب"},
}
_DONE = {"English": "Done", "Français": "Terminé", "العربية": "تم"}
