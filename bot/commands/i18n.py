"""`formabot i18n update|check`: keep the fr/ar/en catalogues in step with the code.

Messages are extracted from `handlers/` and `bot/` with Babel; new ones are added to each
`.po` file (English filled in, French and Arabic left for a translator), gone ones dropped.
"""

from __future__ import annotations

from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from handlers.i18n import DOMAIN, LANGUAGES, catalogue_path

KEYWORDS = {"t": (2,), "N_": None, "say": (2,), "choice": (2,)}
SOURCES = ("handlers", "bot")


def extracted_messages(root: Path) -> dict[str, list[tuple[str, int]]]:
    """msgid → where it is used, for every translatable message under `root`'s packages."""
    found: dict[str, list[tuple[str, int]]] = {}
    for package in SOURCES:
        method_map = [("**.py", "python")]
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root / package, method_map=method_map, keywords=KEYWORDS
        ):
            if isinstance(message, str):
                found.setdefault(message, []).append((f"{package}/{filename}", lineno))
    return found


def _read(language: str) -> Catalog:
    path = catalogue_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="formabot")
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def missing_translations(root: Path) -> dict[str, list[str]]:
    """language → msgids with no (or a fuzzy) translation."""
    messages = extracted_messages(root)
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        catalog = _read(language)
        gaps = [
            msgid for msgid in messages
            if not (entry := catalog.get(msgid)) or not entry.string or entry.fuzzy
        ]
        if gaps:
            missing[language] = gaps
    return missing


@click.group("i18n")
def i18n_group() -> None:
    """Message catalogues (fr, ar, en) for developers and translators."""


@i18n_group.command("update")
def update() -> None:
    """Add new messages to the catalogues and drop those no longer used."""
    root = Path(__file__).resolve().parents[2]
    messages = extracted_messages(root)
    for language in LANGUAGES:
        old = _read(language)
        new = Catalog(locale=language, domain=DOMAIN, project="formabot",
                      header_comment=f"# formabot messages: {language}")
        for msgid, locations in messages.items():
            entry = old.get(msgid)
            string = entry.string if entry and entry.string else (
                msgid if language == "en" else "")
            new.add(msgid, string, locations=sorted(set(locations)))
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, new, width=100, omit_header=False, sort_output=True)
        untranslated = sum(1 for msgid in messages if not new.get(msgid).string)
        click.echo(f"{language}: {len(messages)} messages, {untranslated} to translate")


@i18n_group.command("check")
def check() -> None:
    """Fail when a message lacks a translation in any language."""
    root = Path(__file__).resolve().parents[2]
    missing = missing_translations(root)
    for language, gaps in missing.items():
        for msgid in gaps:
            click.echo(f"{language}: missing {msgid!r}")
    if missing:
        raise click.ClickException("some messages are not translated")
    click.echo("all messages translated in " + ", ".join(LANGUAGES))


commands = [i18n_group]
