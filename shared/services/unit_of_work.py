"""The unit of work: loads what a use case needs (partner users by key, with the
writes a use case stages on them), and commits a learner under the version it read,
bracketed by an intent row and by the handlers the message bus dispatches for the
events the commit collected. Retries follow the message bus's one policy."""

from collections.abc import Callable, Sequence
from datetime import timedelta

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import Intent, Stores, Versioned
from shared.clock import Clock
from shared.domain.activity import ActivityRecord, association_ended, association_started
from shared.domain.events import AssociationEnded, AssociationStarted, Event
from shared.domain.learner import Learner
from shared.domain.model import PartnerUser
from shared.services.messagebus import HandlerTables, attempts, dispatch

UserKey = tuple[str, str]


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
        self._users: dict[UserKey, Versioned[PartnerUser] | None] = {}
        self._staged: dict[UserKey, PartnerUser] = {}
        self._entries: list[ActivityRecord] = []
        self._depth = 0
        """Commits in progress: a handler may commit the learner again (credit that is
        already due); the outermost one publishes what all of them collected."""

    def record(self, entries: Sequence[ActivityRecord]) -> None:
        """Activity entries of the change, written together as its last step."""
        self._entries.extend(entries)

    def user(self, tenant_id: str, email: str) -> Versioned[PartnerUser] | None:
        key = (tenant_id, email)
        if key not in self._users:
            self._users[key] = self.stores.users.get(tenant_id, email)
        return self._users[key]

    def stage_user(self, user: PartnerUser) -> None:
        """What the next write of this user's row starts from (repairs and first
        sign-in folded into a claim, so they cost no request of their own)."""
        self._staged[(user.tenant_id, user.email)] = user

    def staged_user(self, user: PartnerUser) -> PartnerUser:
        return self._staged.get((user.tenant_id, user.email), user)

    def write_user(
        self, tenant_id: str, email: str, change: Callable[[PartnerUser], PartnerUser]
    ) -> Versioned[PartnerUser]:
        """One write under the ETag this unit of work read; raises ConcurrencyConflict
        when the row changed meanwhile (the use case starts over)."""
        key = (tenant_id, email)
        found = self.user(tenant_id, email)
        if found is None:
            raise ConcurrencyConflict(f"partner user {email} is gone")
        changed = change(self._staged.pop(key, found.value))
        written = Versioned(changed, self.stores.users.replace(changed, found.etag))
        self._users[key] = written
        return written

    def write_user_if_unchanged(self, user: PartnerUser) -> bool:
        """One try under the ETag this unit of work read; False when the row changed
        meanwhile (the next reader repairs it)."""
        try:
            self.write_user(user.tenant_id, user.email, lambda _: user)
        except ConcurrencyConflict:
            return False
        return True

    def change_user(
        self, tenant_id: str, email: str, change: Callable[[PartnerUser], PartnerUser]
    ) -> Versioned[PartnerUser] | None:
        """Read-modify-write of a user's row under its ETag, reading again after a
        conflict; nothing is written when nothing changes. Best effort: after
        the message bus's attempts the row is left for a reader to repair."""
        key = (tenant_id, email)
        current = self.user(tenant_id, email)
        for _ in attempts():
            if current is None:
                return None
            changed = change(self._staged.pop(key, current.value))
            if changed == current.value:
                return current
            try:
                current = Versioned(changed, self.stores.users.replace(changed, current.etag))
                self._users[key] = current
                return current
            except ConcurrencyConflict:
                self._users.pop(key, None)
                current = self.user(tenant_id, email)
        return current

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
        self._depth += 1
        try:
            self.stores.learners.commit(learner)
        except ConcurrencyConflict:
            self._depth -= 1
            # The intent stays: releasing the claim is best effort on a contended
            # user row, and the reconciler finds nothing to do if it was released.
            dispatch(self._handlers.on_conflict, events, learner, self)
            raise
        try:
            dispatch(self._handlers.after_commit, events, learner, self)
        finally:
            self._depth -= 1
        self._publish(events)

    def _publish(self, events: Sequence[Event]) -> None:
        """The collected entries, once the outermost commit's handlers are done, the
        association's entry (an intent's marker) written last."""
        if self._depth or not self._entries:
            return
        entries, self._entries = self._entries, []
        marker = self._marker_of(events)
        self._handlers.publish(self.stores, entries, marker.id if marker else None)

    @staticmethod
    def _marker_of(events: Sequence[Event]) -> ActivityRecord | None:
        """One per commit: the start's entry (whose finishing covers the end of a
        move), else the end's."""
        started = next((e.association for e in events if isinstance(e, AssociationStarted)), None)
        if started is not None:
            return association_started(started)
        ended = next((e.association for e in events if isinstance(e, AssociationEnded)), None)
        return association_ended(ended) if ended is not None else None

    def _intent_of(self, events: Sequence[Event]) -> Intent | None:
        """One per commit: the start (whose finishing covers the end of a move), else
        the end."""
        changed = next(
            (e.association for e in events if isinstance(e, AssociationStarted)),
            next((e.association for e in events if isinstance(e, AssociationEnded)), None),
        )
        marker = self._marker_of(events)
        if changed is None or marker is None:
            return None
        return Intent(
            kind="association",
            tenant_id=changed.tenant_id,
            email=changed.user_email,
            written_at=self.clock.now(),
            program=changed.program,
            learner_id=changed.learner_id,
            association_id=changed.association_id,
            marker_id=marker.id,
            marker_at=marker.at,
        )

    def finish(self, learner: Learner, events: Sequence[Event]) -> None:
        """Run what follows a commit that happened earlier (a retried call whose
        first try a failure cut short after its commit)."""
        self._depth += 1
        try:
            dispatch(self._handlers.after_commit, events, learner, self)
        finally:
            self._depth -= 1
        self._publish(events)
