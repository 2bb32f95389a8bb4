"""How many rows an import added and updated, worded for the one-line report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    noun: str
    plural: str
    new: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated

    def __str__(self) -> str:
        noun = self.noun if self.total == 1 else self.plural
        return f"{self.total} {noun} ({self.new} new, {self.updated} updated)"
