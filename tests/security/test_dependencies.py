"""Dependencies with known fixes cannot come back. pyproject.toml sets the floor of every
package (direct or transitive) whose older versions have a published vulnerability that
touches formabot; the installed packages and the deployments' lock (`constraints.txt`) must
meet them, and the lock must pin every package formabot installs. The request-smuggling
attack that made h11 0.16 a floor (CVE-2025-43859) is replayed against the parser uvicorn
runs in front of the webhooks."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import h11
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
FIXED = {
    "h11": "0.16.0",
    "urllib3": "2.6.3",
    "requests": "2.32.4",
    "aiohttp": "3.13.3",
    "starlette": "0.49.1",
    "idna": "3.7",
    "certifi": "2024.7.4",
    "pyjwt": "2.10.1",
}


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(text) for text in project["project"]["dependencies"]]


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def runtime_closure() -> set[str]:
    """Every distribution installing formabot brings in (no extras), by its canonical name."""
    seen: set[str] = set()
    todo = requirements()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo += [Requirement(text) for text in metadata.requires(name) or ()]
    return seen


@pytest.mark.parametrize(("name", "fixed"), sorted(FIXED.items()))
def test_pyproject_sets_the_floor_of_each_known_fix(name: str, fixed: str) -> None:
    [requirement] = [item for item in requirements() if canonicalize_name(item.name) == name]
    floors = [
        Version(spec.version)
        for spec in requirement.specifier
        if spec.operator in (">=", ">", "==", "~=")
    ]
    assert any(floor >= Version(fixed) for floor in floors), (
        f"{requirement} still admits a version before {fixed}"
    )
    assert Version(metadata.version(name)) >= Version(fixed)  # and it is what is installed


def test_the_lock_pins_every_package_formabot_installs_at_or_above_its_floor() -> None:
    pins = pinned()
    # pip (which sqlite-utils asks for) is the installer the virtualenv brings, not locked.
    assert runtime_closure() - set(pins) - {"pip"} == set()
    for requirement in requirements():
        version = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), f"{requirement} vs {version}"


def test_a_smuggled_chunk_is_refused_by_the_http_parser_in_front_of_the_webhooks() -> None:
    """CVE-2025-43859: h11 before 0.16 took any two bytes after a chunk's data for its CRLF,
    so a proxy and formabot could disagree on where a request ends."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(
        b"POST /whatsapp/inbound HTTP/1.1\r\nHost: bot.example.org\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b"5\r\nAAAAAXX2\r\nBB\r\n0\r\n\r\n"
    )
    assert isinstance(server.next_event(), h11.Request)
    with pytest.raises(h11.RemoteProtocolError):
        while server.next_event() is not h11.NEED_DATA:
            pass
