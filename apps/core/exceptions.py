"""Errors that every entry point (pages, htmx, API, commands) turns into the same answer."""

import math
from datetime import datetime

from django.utils import timezone


class WritePaused(Exception):
    """A write rejected because its target is in a write pause (HTTP 423 with Retry-After)."""

    def __init__(self, message: str, *, until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.until = until

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before trying again (at least 30)."""
        if self.until is None:
            return 60
        remaining = (self.until - timezone.now()).total_seconds()
        return max(30, math.ceil(remaining))
