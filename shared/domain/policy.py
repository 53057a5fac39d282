"""Rule 6: how often a learner may start an association."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

LimitKind = Literal["cool_off", "yearly"]


def describe_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


@dataclass(frozen=True)
class Limit:
    kind: LimitKind
    next_available_at: datetime


@dataclass(frozen=True)
class AssociationPolicy:
    max_per_window: int
    window: timedelta
    cool_off: timedelta

    def starts_in_window(self, starts: Iterable[datetime], now: datetime) -> int:
        return sum(1 for start in starts if now - self.window < start <= now)

    def limit_at(self, starts: Iterable[datetime], now: datetime) -> Limit | None:
        """What stops a start at `now`, with the exact instant it stops doing so;
        None when a start is allowed now."""
        ordered = sorted(starts)
        blocks: list[Limit] = []
        if ordered and ordered[-1] + self.cool_off > now:
            blocks.append(Limit("cool_off", ordered[-1] + self.cool_off))
        if len(ordered) >= self.max_per_window:
            oldest_that_counts = ordered[-self.max_per_window]
            if oldest_that_counts + self.window > now:
                blocks.append(Limit("yearly", oldest_that_counts + self.window))
        if not blocks:
            return None
        return max(blocks, key=lambda block: (block.next_available_at, block.kind == "yearly"))

    def message(self, limit: Limit) -> str:
        available_on = limit.next_available_at.date().isoformat()
        if limit.kind == "cool_off":
            reason = (
                f"we require a period of {describe_duration(self.cool_off)} between associations."
            )
        else:
            reason = (
                f"we allow {self.max_per_window} associations in any "
                f"{describe_duration(self.window)}."
            )
        return (
            "You've attempted to associate with a partner organization. However, "
            f"{reason} Your next available date for a subsequent association is {available_on}."
        )
