"""Messages that can never be processed, and putting poisoned ones back once the
cause is fixed."""

from dataclasses import dataclass
from typing import Protocol

from shared.errors import invalid_request
from shared.queue_names import REPLAYABLE


class PoisonMessage(Exception):
    """A queue message that can never be processed, however often it is retried."""

    def __init__(self, event_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.event_id = event_id
        self.reason = reason


class PoisonQueues(Protocol):
    def waiting(self, name: str) -> int: ...

    def move_messages(self, source: str, destination: str, limit: int) -> int: ...


@dataclass(frozen=True)
class Replay:
    queue: str
    poison_queue: str
    waiting: int
    moved: int
    dry_run: bool


def replay(queues: PoisonQueues, queue: str, *, dry_run: bool, limit: int = 1_000) -> Replay:
    """Move messages from `<queue>-poison` back to `<queue>` (after the cause was fixed,
    say a missing setting); a dry run only counts them. Replaying a message twice is
    harmless: every handler is idempotent."""
    if queue not in REPLAYABLE:
        raise invalid_request("queue", f"queue must be one of: {', '.join(REPLAYABLE)}.")
    poison = f"{queue}-poison"
    waiting = queues.waiting(poison)
    moved = 0 if dry_run else queues.move_messages(poison, queue, limit)
    return Replay(queue, poison, waiting, moved, dry_run)
