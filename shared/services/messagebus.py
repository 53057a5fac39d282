"""Dispatch only: the events a commit collected go to the handlers the tables name
(shared/services/handlers.py), the activity entries they collected are published last,
and a use case that lost a race runs again. The one
retry policy of the code lives here: `attempts` (jittered exponential waits) and `run`
(a whole use case, then the contract's 503 busy)."""

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shared import errors
from shared.adapters.errors import ConcurrencyConflict
from shared.domain.activity import ActivityRecord, association_ended, association_started
from shared.domain.events import AssociationEnded, AssociationStarted, Event
from shared.domain.learner import Learner
from shared.domain.model import AssociationRecord
from shared.observability import count

MAX_ATTEMPTS = 12
T = TypeVar("T")
U = TypeVar("U")


class TryAgain(Exception):
    """What this attempt read is changing under it (a link still committing, a
    fence that lost its race): start the use case over from fresh reads."""


def attempts(limit: int = MAX_ATTEMPTS) -> Iterator[int]:
    """Attempt numbers, with a jittered exponential wait before every retry."""
    for number in range(limit):
        if number:
            time.sleep(random.uniform(0, 0.005 * 2 ** min(number, 6)))
        yield number


Handler = Callable[[Any, Learner, Any], None]
"""(event, the learner as committed, the unit of work)."""


Publish = Callable[[Any, Sequence[ActivityRecord], str | None], None]
"""(stores, entries, the entry to write last): the activity entries a change
collected, written (and fanned out to webhooks) as its last step."""


@dataclass(frozen=True)
class HandlerTables:
    before_commit: Mapping[type, Sequence[Handler]]
    after_commit: Mapping[type, Sequence[Handler]]
    on_conflict: Mapping[type, Sequence[Handler]]
    publish: Publish


def dispatch(
    table: Mapping[type, Sequence[Handler]], events: Sequence[Event], learner: Learner, uow: Any
) -> None:
    for event in events:
        for handler in table.get(type(event), ()):
            handler(event, learner, uow)


def after_commit(
    tables: HandlerTables, events: Sequence[Event], learner: Learner, uow: Any
) -> None:
    """The after-commit handlers, then (once the outermost commit's handlers are done)
    the activity entries they collected, the association's entry (an intent's marker)
    written last: its presence says the change finished."""
    uow.depth += 1
    try:
        dispatch(tables.after_commit, events, learner, uow)
    finally:
        uow.depth -= 1
    if uow.depth or not uow.collected:
        return
    entries, uow.collected = uow.collected, []
    marker = marker_of(events)
    tables.publish(uow.stores, entries, marker.id if marker else None)


def changed_association(events: Sequence[Event]) -> tuple[AssociationRecord, bool] | None:
    """The association a commit is about, and whether it started: the start (whose
    finishing covers the end of a move), else the end; None for neither."""
    for kind in (AssociationStarted, AssociationEnded):
        found = next((e.association for e in events if isinstance(e, kind)), None)
        if found is not None:
            return found, kind is AssociationStarted
    return None


def marker_of(events: Sequence[Event]) -> ActivityRecord | None:
    """The entry a change writes last: its association's start or end."""
    changed = changed_association(events)
    if changed is None:
        return None
    association, started = changed
    return association_started(association) if started else association_ended(association)


def run(
    new_unit_of_work: Callable[[], U],
    use_case: Callable[[U, int], T],
    first: U | None = None,
) -> T:
    """The use case with a fresh unit of work per attempt (the first attempt may go
    on with one that already read what it needs), retried on a conflict; after
    MAX_ATTEMPTS, the contract's 503 busy."""
    for number in attempts():
        uow = first if number == 0 and first is not None else new_unit_of_work()
        try:
            return use_case(uow, number)
        except (ConcurrencyConflict, TryAgain):
            count("skills_link.storage_conflicts_retried")
            continue
    raise errors.BUSY()
