"""Maps what a person said or pressed to the feature that answers it."""

from __future__ import annotations

from handlers.context import Context
from handlers.types import Inbound, Reply


def handle(context: Context, inbound: Inbound) -> list[Reply]:
    raise NotImplementedError
