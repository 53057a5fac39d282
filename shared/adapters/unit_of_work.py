"""The unit of work: loads what a use case needs, commits a learner under its
version, and runs the side effects that belong before and after that commit from
the handler tables (shared/services/handlers.py). `run` retries a whole use case
on a conflict with one backoff policy, then answers the contract's 503 busy. No
other module retries."""

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from shared import errors
from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import (
    ActivityStore,
    CreditQueue,
    Delivery,
    ExpiryWarningStore,
    Intent,
    IntentStore,
    LearnerStore,
    PartnerUserStore,
    RemovalStore,
    ReportStore,
    Versioned,
    WakeStore,
    WebhookStore,
)
from shared.adapters.skills_report import report_row_of
from shared.clock import Clock
from shared.domain.activity import ActivityRecord
from shared.domain.events import AssociationEnded, AssociationStarted, Event
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord, PartnerUser
from shared.observability import count

MAX_ATTEMPTS = 12
T = TypeVar("T")


class TryAgain(Exception):
    """What this attempt read is changing under it (a link still committing, a
    fence that lost its race): start the use case over from fresh reads."""


def attempts(limit: int = MAX_ATTEMPTS) -> Iterator[int]:
    """Attempt numbers, with a jittered exponential wait before every retry."""
    for number in range(limit):
        if number:
            time.sleep(random.uniform(0, 0.005 * 2 ** min(number, 6)))
        yield number


Handler = Callable[[Any, Learner, "UnitOfWork"], None]


@dataclass(frozen=True)
class HandlerTables:
    before_commit: Mapping[type, Sequence[Handler]]
    after_commit: Mapping[type, Sequence[Handler]]
    on_conflict: Mapping[type, Sequence[Handler]]


@dataclass(frozen=True)
class Stores:
    users: PartnerUserStore
    learners: LearnerStore
    wakes: WakeStore
    report: ReportStore
    removals: RemovalStore
    queue: CreditQueue
    activity: ActivityStore
    webhooks: WebhookStore
    expiry_warnings: ExpiryWarningStore
    intents: IntentStore

    def record_activity(self, entries: Sequence[ActivityRecord]) -> None:
        """Write the entries, then hand each to the organization's endpoints that
        subscribe to its type (a queue message each: a slow receiver never slows the
        change). Endpoints are read from a short cache: an organization without
        webhooks pays no request for them."""
        if not entries:
            return
        self.activity.put(entries)
        for entry in entries:
            for webhook in self.webhooks.list(entry.tenant_id, cached=True):
                if webhook.wants(entry.type):
                    self.queue.send_delivery(
                        Delivery(entry.tenant_id, webhook.id, entry.model_dump(mode="json"))
                    )


UserKey = tuple[str, str]


class UnitOfWork:
    def __init__(
        self,
        stores: Stores,
        clock: Clock,
        credit_delay: timedelta,
        handlers: HandlerTables,
        expiry_warning: timedelta = timedelta(days=60),
    ) -> None:
        self.stores = stores
        self.clock = clock
        self.credit_delay = credit_delay
        self.expiry_warning = expiry_warning
        self._handlers = handlers
        self._users: dict[UserKey, Versioned[PartnerUser] | None] = {}
        self._staged: dict[UserKey, PartnerUser] = {}

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
        MAX_ATTEMPTS conflicts the row is left for a reader to repair."""
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
        after-commit handlers; on a conflict, the compensations, and it raises. A
        start or an end of an association is bracketed by an intent row, so that a
        crash anywhere in between is finished by the reconciler (a caller that has an
        intent of its own, the departure, passes with_intent=False)."""
        events = learner.take_events()
        intent = self._intent_of(events) if with_intent else None
        if intent is not None:
            self.stores.intents.write(intent)
        self._run(self._handlers.before_commit, events, learner)
        try:
            self.stores.learners.commit(learner)
        except ConcurrencyConflict:
            # The intent stays: releasing the claim is best effort on a contended
            # user row, and the reconciler finds nothing to do if it was released.
            self._run(self._handlers.on_conflict, events, learner)
            raise
        self._run(self._handlers.after_commit, events, learner)
        if intent is not None:
            self.stores.intents.remove(intent)

    def _intent_of(self, events: Sequence[Event]) -> Intent | None:
        """One per commit: the start (whose finishing covers the end of a move), else
        the end."""
        changed = next(
            (e.association for e in events if isinstance(e, AssociationStarted)),
            next((e.association for e in events if isinstance(e, AssociationEnded)), None),
        )
        if changed is None:
            return None
        return Intent(
            kind="association",
            tenant_id=changed.tenant_id,
            email=changed.user_email,
            written_at=self.clock.now(),
            program=changed.program,
            learner_id=changed.learner_id,
            association_id=changed.association_id,
        )

    def rewrite_credited(
        self,
        learner: Learner,
        tenant_id: str,
        change: Callable[[Learner], list[CreditedRecord]],
    ) -> None:
        """Credited rows that follow a commit, decided from the learner as it is: the
        report first (the learner's rows decide what is left to do, so a failure
        between the two writes leaves work that a retry still sees), then the
        learner's rows in one transaction with a re-write of its state row as last
        seen. A handler that comes late, after a later commit of the learner (a
        return, an end, a credit), conflicts, reads again and decides again; a commit
        that read before it conflicts and starts over. So no late handler can leave
        rows as an older state wanted them."""
        touched: set[str] = set()
        for _ in attempts():
            rows = change(learner)
            if not rows:
                return
            touched |= {row.credential.id for row in rows}
            self.stores.report.put_rows(
                tenant_id, [report_row_of(learner.program, learner.learner_id, c) for c in rows]
            )
            try:
                self.stores.learners.put_credited(learner, rows)
                return
            except ConcurrencyConflict:
                learner = self.stores.learners.load(learner.program, learner.learner_id)
                # The report as the learner's rows say, before deciding again.
                self.stores.report.put_rows(
                    tenant_id,
                    [
                        report_row_of(learner.program, learner.learner_id, c)
                        for c in learner.credited_for(tenant_id)
                        if c.credential.id in touched
                    ],
                )
        raise ConcurrencyConflict(f"credited rows of {tenant_id} kept changing")

    def finish(self, learner: Learner, events: Sequence[Event]) -> None:
        """Run what follows a commit that happened earlier (a retried call whose
        first try a failure cut short after its commit)."""
        self._run(self._handlers.after_commit, events, learner)

    def _run(
        self, table: Mapping[type, Sequence[Handler]], events: Sequence[Event], learner: Learner
    ) -> None:
        for event in events:
            for handler in table.get(type(event), ()):
                handler(event, learner, self)


def run(
    new_unit_of_work: Callable[[], UnitOfWork],
    use_case: Callable[[UnitOfWork, int], T],
    first: UnitOfWork | None = None,
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
