"""Imports point one way: bot → handlers → storage (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "storage": {"bot", "handlers", "telegram", "twilio", "apscheduler", "starlette", "uvicorn"},
    "handlers": {"bot", "telegram", "twilio", "apscheduler", "starlette", "uvicorn"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
        if imported_modules(path) & FORBIDDEN[layer]
    }
    assert offenders == {}
