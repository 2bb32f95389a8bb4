"""Hypothesis settings and strategies shared by the fuzz properties."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# One database and one app serve all the inputs of a property (restored between inputs), so
# function-scoped fixtures are shared on purpose; no example database is written to the repo.
FUZZ = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

# Text as people and forgers send it: any unicode, often near the characters that matter
# (digits, separators, quotes, accents, Arabic, control and invisible characters).
SPECIAL = st.sampled_from(
    [
        *"0123456789+-/:;,.=\"'#[]{}()<>&%_ \t\r\n\x00\u200b\u200f\ufefféèàçÉ",
        "٠",
        "٣",
        "٩",
        "۳",
        "²",
        "½",
        "ﬁ",
        "ا",
        "ل",
        "ّ",
        "\u0301",
        "🙂",
        "\U0001f1f2",
        "\ud800",
    ]
)
TEXT = st.text(st.one_of(st.characters(), SPECIAL), max_size=60)
HUGE_TEXT = st.builds(
    lambda piece, times: piece * times, st.text(min_size=1, max_size=12), st.integers(300, 2_000)
)
