"""The docs keep up with the code: every config key and CLI command is documented, every
relative link in the README and `docs/` leads somewhere, the README stays a short read, and CI
runs the README's test command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from bot import config
from bot.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "config.example.toml"
README_MAX_CHARS = 12_000

SECRET_VARIABLES = (
    config.TELEGRAM_TOKEN_ENV,
    config.TELEGRAM_WEBHOOK_SECRET_ENV,
    config.TWILIO_SID_ENV,
    config.TWILIO_TOKEN_ENV,
)


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")))


# --- configuration -------------------------------------------------------------------------


def config_keys() -> list[tuple[str, str]]:
    return [(section, key) for section, keys in config.SCHEMA.items() for key in keys]


_EXAMPLE_SECTION = re.compile(r"^\s*#?\s*\[([a-z_]+)(?:\.([a-z_]+))?(?:\.[a-z_<>]+)*\]\s*$")
_EXAMPLE_KEY = re.compile(r"^\s*#?\s*([a-z_]+)\s*=")


def example_keys() -> set[tuple[str, str]]:
    """(section, key) for every key config.example.toml shows, set or commented out; a table
    such as `[whatsapp.templates.reminder]` shows the key `templates` of `[whatsapp]`."""
    found: set[tuple[str, str]] = set()
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := _EXAMPLE_SECTION.match(line):
            section = match.group(1)
            if match.group(2):  # the keys below belong to that table's value
                found.add((section, match.group(2)))
                section = ""
        elif (match := _EXAMPLE_KEY.match(line)) and section:
            found.add((section, match.group(1)))
    return found


@pytest.mark.parametrize(("section", "key"), config_keys())
def test_every_config_key_is_in_the_example_file(section: str, key: str) -> None:
    assert (section, key) in example_keys(), f"[{section}] {key} missing from {EXAMPLE.name}"


@pytest.mark.parametrize(("section", "key"), config_keys())
def test_every_config_key_is_in_the_docs(section: str, key: str) -> None:
    text = docs_text()
    assert f"[{section}] {key}" in text or f"[{section}.{key}" in text, (
        f"[{section}] {key} is not documented in docs/ (write it as `[{section}] {key}`)"
    )


def test_the_example_file_shows_no_unknown_key() -> None:
    known = set(config_keys())
    assert example_keys() - known == set()


def test_the_example_file_is_a_valid_configuration() -> None:
    config.load(EXAMPLE, environ={})


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
def test_every_secret_variable_is_documented(variable: str) -> None:
    assert variable in EXAMPLE.read_text(encoding="utf-8")
    assert variable in docs_text()


# --- the command line ----------------------------------------------------------------------


def commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


COMMANDS = list(commands(cli))


def test_the_cli_has_commands() -> None:
    assert len(COMMANDS) > 10


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=" ".join)
def test_every_command_is_in_the_docs(path: tuple[str, ...]) -> None:
    """Written as an operator types it: `formabot db prune`, perhaps after `--config PATH`."""
    pattern = re.compile(
        r"formabot(?:\s+--config\s+\S+)?\s+" + r"\s+".join(map(re.escape, path)) + r"(?![\w-])"
    )
    assert pattern.search(docs_text()), f"formabot {' '.join(path)} is not in docs/"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"formabot {' '.join(path)} has no help text"


# --- links ---------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"`+[^`]*`+")
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The lines of a Markdown file outside fenced and indented code blocks."""
    fenced = False
    previous_blank = True
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        indented = line.startswith(("    ", "\t")) and previous_blank
        if indented:
            continue  # an indented code block (previous_blank stays as it was)
        previous_blank = not line.strip()
        yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(path):
        if match := _HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in prose_lines(path):
        if match := _REFERENCE_LINK.match(line):
            yield number, match.group(1)
            continue
        for match in _INLINE_LINK.finditer(_CODE_SPAN.sub("", line)):
            yield number, match.group(1)


def relative_links() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}:{number}", target)
        for path in pages()
        for number, target in links(path)
        if target and not _SCHEME.match(target)
    ]


def test_the_docs_have_links() -> None:
    assert len(relative_links()) > 10


@pytest.mark.parametrize(
    ("where", "target"),
    relative_links(),
    ids=[f"{where} {target}" for where, target in relative_links()],
)
def test_every_relative_link_resolves(where: str, target: str) -> None:
    source = ROOT / where.rsplit(":", 1)[0]
    name, _, anchor = target.partition("#")
    destination = (source.parent / name).resolve() if name else source
    assert destination.exists(), f"{where}: {target} leads to no file"
    if anchor:
        assert destination.suffix == ".md", f"{where}: {target}: an anchor into a non-Markdown file"
        assert anchor in anchors(destination), (
            f"{where}: {target}: no heading with that anchor in {destination.name}"
        )


def test_slugs_follow_github() -> None:
    assert slug("`GET /healthz`") == "get-healthz"
    assert slug("Check the installation: `formabot doctor`") == (
        "check-the-installation-formabot-doctor"
    )
    assert slug("One person, two channels") == "one-person-two-channels"


# --- the README ----------------------------------------------------------------------------


def test_the_readme_is_a_ten_minute_read() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size <= README_MAX_CHARS, f"README.md has {size} characters (at most {README_MAX_CHARS})"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {
        target.partition("#")[0]
        for where, target in relative_links()
        if where.startswith("README.md:")
    }
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


def test_ci_runs_the_readmes_test_command() -> None:
    readme = [
        line.strip()
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("    ") and "python -m pytest" in line
    ]
    assert len(readme) == 1, "the README should show one test command"
    (command,) = readme
    assert "ruff check ." in command
    assert "mypy" in command
    assert "ruff format --check ." in command
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert command in ci, ".ci/run does not run the README's test command"
