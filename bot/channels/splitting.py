"""Cutting a long text into messages a platform accepts, for every channel.

Each platform counts differently (Telegram: UTF-16 units of the escaped HTML, 4,096; Twilio:
UTF-16 units of the plain body, 1,600), so the caller gives its `measure`; the cuts are the
same everywhere: between paragraphs, else lines, else words, and only a word longer than a
message is cut inside. `measure` must add up over characters (true of both platforms).
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]
# Coarsest first.
SEPARATORS = ("\n\n", "\n", " ")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as both platforms count (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = utf16_length) -> list[str]:
    """`text` in stripped, non-empty pieces, each measuring at most `limit`."""
    pieces = (piece.strip() for piece in _pieces(text, limit, measure, SEPARATORS))
    return [piece for piece in pieces if piece]


def _pieces(text: str, limit: int, measure: Measure, separators: tuple[str, ...]) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if not separators:
        return _hard_cut(text, limit, measure)
    separator, finer = separators[0], separators[1:]
    parts = text.split(separator)
    if len(parts) == 1:
        return _pieces(text, limit, measure, finer)
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if measure(part) <= limit:
            current = part
        else:
            *done, current = _pieces(part, limit, measure, finer)
            chunks.extend(done)
    if current:
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int, measure: Measure) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for character in text:
        cost = measure(character)
        if size + cost > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(character)
        size += cost
    chunks.append("".join(current))
    return chunks
