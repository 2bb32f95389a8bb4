"""A check's verdict and how the verdicts are printed, shared by every kind of check."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

LEVELS = ("OK", "WARN", "FAIL", "SKIP")


@dataclass(frozen=True)
class Finding:
    """One check's verdict: `summary` says what was found, `fix` what to do about it."""

    level: str
    check: str
    summary: str
    fix: str = ""


def render(findings: list[Finding]) -> list[str]:
    """Plain lines, readable without colour: level, check, what; the fix indented below."""
    width = max(len(finding.check) for finding in findings)
    lines = []
    for finding in findings:
        lines.append(f"{finding.level:<4}  {finding.check:<{width}}  {finding.summary}")
        if finding.fix and finding.level in ("WARN", "FAIL"):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {finding.fix}")
    counts = Counter(finding.level for finding in findings)
    lines.append(", ".join(f"{counts[level]} {level}" for level in LEVELS if counts[level]))
    return lines


def redacted(text: str, *secrets: str) -> str:
    """`text` (a library's error message) with every secret in it replaced: findings are
    printed, and a library may quote the token or the URL that holds it."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    return text
