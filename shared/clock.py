"""The clock every rule takes as an argument: the system's in production, a controlled one
in tests and the local runner's dev clock."""

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
