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

KEYWORDS = {"t": (2,), "tn": (2, 3), "N_": None, "say": (2,), "choice": (2,)}
SOURCES = ("handlers", "bot")


MsgId = str | tuple[str, str]  # a message, or a plural one's singular and plural


def extracted_messages(root: Path) -> dict[MsgId, list[tuple[str, int]]]:
    """msgid → where it is used, for every translatable message under `root`'s packages."""
    found: dict[MsgId, list[tuple[str, int]]] = {}
    for package in SOURCES:
        method_map = [("**.py", "python")]
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root / package, method_map=method_map, keywords=KEYWORDS
        ):
            if isinstance(message, tuple) and len(message) == 2 and all(message):
                message = (message[0], message[1])
            if isinstance(message, str) or (isinstance(message, tuple) and len(message) == 2):
                key: MsgId = message if isinstance(message, str) else (message[0], message[1])
                found.setdefault(key, []).append((f"{package}/{filename}", lineno))
    return found


def _read(language: str) -> Catalog:
    path = catalogue_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="formabot")
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _translated(catalog: Catalog, msgid: MsgId) -> bool:
    """Whether `msgid` has a translation: every plural form the language has, for a plural."""
    entry = catalog.get(msgid if isinstance(msgid, str) else msgid[0])
    if entry is None or entry.fuzzy or not entry.string:
        return False
    if isinstance(msgid, tuple):
        return (
            isinstance(entry.id, tuple)
            and isinstance(entry.string, tuple)
            and len(entry.string) == catalog.num_plurals
            and all(entry.string)
        )
    return isinstance(entry.string, str)


def missing_translations(root: Path) -> dict[str, list[MsgId]]:
    """language → msgids with no (or a fuzzy, or a plural-less) translation."""
    messages = extracted_messages(root)
    missing: dict[str, list[MsgId]] = {}
    for language in LANGUAGES:
        catalog = _read(language)
        gaps = [msgid for msgid in messages if not _translated(catalog, msgid)]
        if gaps:
            missing[language] = gaps
    return missing


def _kept(old: Catalog, msgid: MsgId, language: str, forms: int) -> str | tuple[str, ...]:
    """The translation `msgid` already has in `old`, else English for "en" and nothing for
    the others; a plural message gets as many forms as the language has."""
    entry = old.get(msgid if isinstance(msgid, str) else msgid[0])
    if isinstance(msgid, str):
        if entry is not None and isinstance(entry.string, str) and entry.string:
            return entry.string
        return msgid if language == "en" else ""
    if entry is not None and isinstance(entry.string, tuple) and len(entry.string) == forms:
        return tuple(entry.string)
    if language == "en":
        return msgid
    return ("",) * forms


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
        new = Catalog(
            locale=language,
            domain=DOMAIN,
            project="formabot",
            header_comment=f"# formabot messages: {language}",
        )
        for msgid, locations in messages.items():
            new.add(
                msgid,
                _kept(old, msgid, language, new.num_plurals),
                locations=sorted(set(locations)),
            )
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, new, width=100, omit_header=False, sort_output=True)
        untranslated = sum(1 for msgid in messages if not _translated(new, msgid))
        click.echo(f"{language}: {len(messages)} messages, {untranslated} to translate")


@i18n_group.command("check")
def check() -> None:
    """Fail when a message lacks a translation in any language."""
    root = Path(__file__).resolve().parents[2]
    missing = missing_translations(root)
    for language, gaps in missing.items():
        for msgid in gaps:
            click.echo(f"{language}: missing {msgid if isinstance(msgid, str) else msgid[0]!r}")
    if missing:
        raise click.ClickException("some messages are not translated")
    click.echo("all messages translated in " + ", ".join(LANGUAGES))


commands = [i18n_group]
