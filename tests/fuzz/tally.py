"""How many generated inputs the fuzz suite threw, at which entry points.

Each property calls `count(entry point)` once per generated input; the fuzz conftest prints
the total at the end of the run, so that the size of the suite is visible in CI output.
"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
TARGET = 10_000


def count(entry_point: str) -> None:
    """One more input thrown at `entry_point`."""
    COUNTS[entry_point] += 1


def summary() -> str:
    total = sum(COUNTS.values())
    line = f"fuzz: {total} inputs over {len(COUNTS)} entry points"
    if total < TARGET:
        line += f" (fewer than {TARGET:,}: only part of tests/fuzz ran)"
    return line
