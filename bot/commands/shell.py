"""`formabot shell`: the conversation in a terminal."""

from __future__ import annotations

commands: list = []
