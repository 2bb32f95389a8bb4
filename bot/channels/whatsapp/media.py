"""`.ics` files published for Twilio to fetch: a token → the file, for a short while.

Twilio fetches a message's MediaUrl within seconds of the request, so a bounded in-memory
store is enough: files are kept an hour (or until 1,000 newer ones push them out). Served by
`GET /whatsapp/media/<token>.ics` on the project's web app; `[whatsapp] media_base_url` is
the public URL of that path.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from handlers.types import Attachment

TTL_SECONDS = 3_600
KEEP = 1_000


class MediaStore:
    def __init__(
        self,
        base_url: str,
        *,
        ttl: float = TTL_SECONDS,
        keep: int = KEEP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._ttl, self._keep, self._clock = ttl, keep, clock
        self._files: OrderedDict[str, tuple[float, Attachment]] = OrderedDict()

    def publish(self, attachment: Attachment) -> str:
        """Keep `attachment`; the public URL Twilio will fetch it from."""
        token = secrets.token_urlsafe(18)
        self._files[token] = (self._clock() + self._ttl, attachment)
        while len(self._files) > self._keep:
            self._files.popitem(last=False)
        return f"{self.base_url}/{token}.ics"

    def get(self, token: str) -> Attachment | None:
        found = self._files.get(token)
        if found is None:
            return None
        expires, attachment = found
        if expires < self._clock():
            del self._files[token]
            return None
        return attachment
