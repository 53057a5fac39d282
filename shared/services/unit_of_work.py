"""The unit of work: what one attempt of a use case read (the partner users, in
`users`), and the commit of a learner under the version it read, bracketed by an
intent row and by the handlers the message bus dispatches for the events the commit
collected, with the activity entries they collected written last."""

from collections.abc import Sequence
from datetime import timedelta

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import Intent, Stores
from shared.clock import Clock
from shared.domain.activity import ActivityRecord
from shared.domain.events import Event
from shared.domain.learner import Learner
from shared.services.messagebus import (
    HandlerTables,
    after_commit,
    changed_association,
    dispatch,
    marker_of,
)
from shared.services.user_rows import UserRows


class UnitOfWork:
    def __init__(
        self,
        stores: Stores,
        clock: Clock,
        credit_delay: timedelta,
        handlers: HandlerTables,
        expiry_warning: timedelta,
    ) -> None:
        self.stores = stores
        self.clock = clock
        self.credit_delay = credit_delay
        self.expiry_warning = expiry_warning
        self._handlers = handlers
        self.users = UserRows(stores.users)
        """The partner users this unit of work read, and the writes staged on them."""
        self.collected: list[ActivityRecord] = []
        """Activity entries of the change, written together as its last step."""
        self.depth = 0
        """After-commit dispatches in progress: a handler may commit the learner again
        (credit that is already due); the outermost one publishes what all collected."""

    def record(self, entries: Sequence[ActivityRecord]) -> None:
        self.collected.extend(entries)

    def commit(self, learner: Learner, *, with_intent: bool = True) -> None:
        """Before-commit handlers, the learner's write under its version, then the
        after-commit handlers and, last, the activity entries they collected; on a
        conflict, the compensations, and it raises. A start or an end of an
        association writes an intent row first, so that a crash anywhere after it is
        finished by the reconciler (a caller that has an intent of its own, the
        departure, passes with_intent=False). The intent is not removed here: its
        marker entry, written last, tells the reconciler the change finished, and the
        reconciler removes finished intents in batches (one request on the path, not
        two)."""
        events = learner.take_events()
        intent = self._intent_of(events) if with_intent else None
        if intent is not None:
            self.stores.intents.write(intent)
        dispatch(self._handlers.before_commit, events, learner, self)
        try:
            self.stores.learners.commit(learner)
        except ConcurrencyConflict:
            # The intent stays: releasing the claim is best effort on a contended
            # user row, and the reconciler finds nothing to do if it was released.
            dispatch(self._handlers.on_conflict, events, learner, self)
            raise
        after_commit(self._handlers, events, learner, self)

    def _intent_of(self, events: Sequence[Event]) -> Intent | None:
        changed, marker = changed_association(events), marker_of(events)
        if changed is None or marker is None:
            return None
        association = changed[0]
        return Intent(
            kind="association",
            tenant_id=association.tenant_id,
            email=association.user_email,
            written_at=self.clock.now(),
            program=association.program,
            learner_id=association.learner_id,
            association_id=association.association_id,
            marker_id=marker.id,
            marker_at=marker.at,
        )

    def finish(self, learner: Learner, events: Sequence[Event]) -> None:
        """Run what follows a commit that happened earlier (a retried call whose
        first try a failure cut short after its commit)."""
        after_commit(self._handlers, events, learner, self)
