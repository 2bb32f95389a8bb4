"""`formabot catalog|companies|contacts import` and `formabot sessions list|show`."""

from __future__ import annotations

commands: list = []
