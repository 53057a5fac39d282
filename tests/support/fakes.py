"""In-memory stand-ins for the storage modules, with the same ETag behaviour, for
unit tests of the rules. Every storage module is also tested against Azurite."""

import itertools
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from shared.adapters.errors import ConcurrencyConflict, InvalidContinuation
from shared.adapters.ports import Delivery, ExpiryWarning, Intent, Removal, Stores, Versioned, Wake
from shared.bootstrap import build_context
from shared.clock import Clock
from shared.domain.activity import ActivityRecord
from shared.domain.learner import Learner
from shared.domain.model import CredentialRecord, CreditedRecord, LearnerState, PartnerUser
from shared.domain.webhooks import WebhookRecord
from shared.services.dependencies import Dependencies
from shared.settings import Settings
from shared.wire import Program, ReportRow

_etags = itertools.count(1)


class FakePartnerUsers:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Versioned[PartnerUser]] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def get(self, tenant_id: str, email: str) -> Versioned[PartnerUser] | None:
        return self.rows.get((tenant_id, email.lower()))

    def insert(self, user: PartnerUser) -> str:
        with self._lock:
            key = (user.tenant_id, user.email)
            if key in self.rows:
                raise ConcurrencyConflict("exists")
            return self._store(key, user)

    def replace(self, user: PartnerUser, etag: str) -> str:
        with self._lock:
            key = (user.tenant_id, user.email)
            if key not in self.rows or self.rows[key].etag != etag:
                raise ConcurrencyConflict("modified")
            return self._store(key, user)

    def _store(self, key: tuple[str, str], user: PartnerUser) -> str:
        self.writes += 1
        etag = str(next(_etags))
        self.rows[key] = Versioned(user, etag)
        return etag

    def page(
        self, tenant_id: str, *, linked: bool | None, continuation: str | None
    ) -> tuple[list[PartnerUser], str | None]:
        if continuation:
            raise InvalidContinuation(continuation)
        users = [v.value for (t, _), v in sorted(self.rows.items()) if t == tenant_id]
        if linked is False:
            users = [u for u in users if u.is_active and not u.ever_linked]
        elif linked is True:
            users = [u for u in users if u.linked_anywhere]
        return users, None


class FakeLearners:
    """The learners table in memory: the same versions and the same refusals as
    shared/adapters/learners.py."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock
        self.rows: dict[tuple[str, str], Versioned[LearnerState]] = {}
        self.credentials: dict[tuple[str, str, str], Versioned[CredentialRecord]] = {}
        self.credited: dict[tuple[str, str, str, str], CreditedRecord] = {}
        self.commits = 0
        self._lock = threading.Lock()

    def load(
        self,
        program: Program,
        learner_id: str,
        *,
        only_credential: str | None = None,
        state_only: bool = False,
    ) -> Learner:
        learner = Learner.new(program, learner_id)
        state = self.rows.get((program, learner_id))
        if state is not None:
            learner.state, learner.version = state.value, state.etag
        if state_only:
            return learner
        for (p, lid, cid), found in self.credentials.items():
            if (p, lid) == (program, learner_id) and only_credential in (None, cid):
                learner.credentials[cid] = found.value
                learner.credential_versions[cid] = found.etag
        if only_credential is None:
            learner.credited = [
                r
                for (p, lid, _, _), r in self.credited.items()
                if (p, lid) == (program, learner_id)
            ]
            if self.clock is not None:
                learner.forget_removed(self.clock.now())
        return learner

    def _guard(self, learner: Learner) -> str:
        """The state row as the learner loaded it, written again (or created)."""
        key = (learner.program, learner.learner_id)
        current = self.rows.get(key)
        if (current is None) != (learner.version is None) or (
            current is not None and current.etag != learner.version
        ):
            raise ConcurrencyConflict("state changed")
        etag = str(next(_etags))
        self.rows[key] = Versioned(learner.state, etag)
        return etag

    def commit(self, learner: Learner) -> None:
        if not learner.has_changes:
            return
        with self._lock:
            key = (learner.program, learner.learner_id)
            for cid in learner.changed_credentials:
                current = self.credentials.get((*key, cid))
                expected = learner.credential_versions.get(cid)
                if (current is None) != (expected is None) or (
                    current is not None and current.etag != expected
                ):
                    raise ConcurrencyConflict("credential changed")
            version = self._guard(learner)
            versions = {}
            for cid in learner.changed_credentials:
                versions[cid] = str(next(_etags))
                self.credentials[(*key, cid)] = Versioned(learner.credentials[cid], versions[cid])
            for record in learner.removed_credited:
                self.credited.pop((*key, record.tenant_id, record.credential.id), None)
            for record in learner.new_credited:
                self.credited[(*key, record.tenant_id, record.credential.id)] = record
            self.commits += 1
            learner.committed(version, versions)

    def put_credited(self, learner: Learner, records: Sequence[CreditedRecord]) -> None:
        with self._lock:
            learner.committed(self._guard(learner), {})
            key = (learner.program, learner.learner_id)
            for record in records:
                self.credited[(*key, record.tenant_id, record.credential.id)] = record


class FakeWakes:
    """One row per (association, exact due instant), like the table."""

    def __init__(self) -> None:
        self.rows: set[Wake] = set()

    def schedule(self, wake: Wake) -> None:
        self.rows.add(wake)

    def due(self, now: datetime, limit: int) -> list[Wake]:
        due = sorted((w for w in self.rows if w.due_at <= now), key=lambda w: w.due_at)
        return due[:limit]

    def remove(self, wake: Wake) -> None:
        self.rows.discard(wake)


class FakeReport:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], ReportRow] = {}

    def put_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None:
        for row in rows:
            self.rows[(tenant_id, row.program, row.learner_id, row.credential_id)] = row

    def page(
        self, tenant_id: str, continuation: str | None, page_size: int = 500
    ) -> tuple[list[ReportRow], str | None]:
        return [r for (t, *_), r in sorted(self.rows.items()) if t == tenant_id], None

    def due_for_removal(self, tenant_id: str, today: date) -> list[Versioned[ReportRow]]:
        return [
            Versioned(r, r.model_dump_json())
            for (t, *_), r in sorted(self.rows.items())
            if t == tenant_id and r.removal_on is not None and r.removal_on <= today
        ]

    def delete_unchanged(self, tenant_id: str, rows: Sequence[Versioned[ReportRow]]) -> None:
        for found in rows:
            key = (
                tenant_id,
                found.value.program,
                found.value.learner_id,
                found.value.credential_id,
            )
            current = self.rows.get(key)
            if current is None or current.model_dump_json() != found.etag:
                raise ConcurrencyConflict("report row changed")
            del self.rows[key]


class FakeRemovals:
    def __init__(self) -> None:
        self.rows: set[Removal] = set()

    def schedule(self, removal: Removal) -> None:
        self.rows.add(removal)

    def due(self, today: date, limit: int) -> list[Removal]:
        return sorted((r for r in self.rows if r.on <= today), key=str)[:limit]

    def remove_many(self, removals: Sequence[Removal]) -> None:
        self.rows.difference_update(removals)


class FakeIntents:
    def __init__(self) -> None:
        self.rows: set[Intent] = set()

    def write(self, intent: Intent) -> None:
        self.rows.add(intent)

    def older_than(self, cutoff: datetime, limit: int) -> list[Intent]:
        old = sorted((i for i in self.rows if i.written_at <= cutoff), key=lambda i: i.written_at)
        return old[:limit]

    def remove(self, intent: Intent) -> None:
        self.rows.discard(intent)

    def remove_many(self, intents: Sequence[Intent]) -> None:
        for intent in intents:
            self.rows.discard(intent)


class FakeCreditQueue:
    def __init__(self) -> None:
        self.sent: list[Wake] = []
        self.deliveries: list[tuple[Delivery, timedelta]] = []

    def send_wake(self, wake: Wake) -> None:
        self.sent.append(wake)

    def send_delivery(self, delivery: Delivery, delay: timedelta = timedelta(0)) -> None:
        self.deliveries.append((delivery, delay))


class FakeWebhooks:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], WebhookRecord] = {}

    def list(self, tenant_id: str, *, cached: bool = False) -> list[WebhookRecord]:
        return [w for (t, _), w in sorted(self.rows.items()) if t == tenant_id]

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord | None:
        return self.rows.get((tenant_id, webhook_id))

    def get_versioned(self, tenant_id: str, webhook_id: str) -> Versioned[WebhookRecord] | None:
        found = self.rows.get((tenant_id, webhook_id))
        return None if found is None else Versioned(found, found.model_dump_json())

    def put(self, webhook: WebhookRecord) -> None:
        self.rows[(webhook.tenant_id, webhook.id)] = webhook

    def replace_if(self, webhook: WebhookRecord, version: str) -> bool:
        current = self.rows.get((webhook.tenant_id, webhook.id))
        if current is None or current.model_dump_json() != version:
            return False
        self.put(webhook)
        return True

    def add(self, webhook: WebhookRecord, limit: int) -> bool:
        if len(self.list(webhook.tenant_id)) >= limit:
            return False
        self.put(webhook)
        return True

    def delete(self, tenant_id: str, webhook_id: str) -> bool:
        return self.rows.pop((tenant_id, webhook_id), None) is not None


class FakeActivity:
    def __init__(self) -> None:
        self.entries: dict[str, ActivityRecord] = {}

    def put(self, entries: Sequence[ActivityRecord]) -> None:
        for entry in entries:
            self.entries[entry.id] = entry

    def exists(self, tenant_id: str, at: datetime, entry_id: str) -> bool:
        found = self.entries.get(entry_id)
        return found is not None and found.tenant_id == tenant_id and found.at == at

    def page(
        self,
        tenant_id: str,
        *,
        since: datetime,
        until: datetime,
        types: Sequence[str] = (),
        email: str | None = None,
        continuation: str | None = None,
        page_size: int = 100,
    ) -> tuple[list[ActivityRecord], str | None]:
        if continuation:
            raise InvalidContinuation(continuation)
        found = [
            e
            for e in self.entries.values()
            if e.tenant_id == tenant_id
            and since <= e.at <= until
            and (not types or e.type in types)
            and (email is None or e.email == email)
        ]
        return sorted(found, key=lambda e: (e.at, e.id), reverse=True), None

    def remove_before(self, tenant_id: str, cutoff: datetime) -> int:
        month = (cutoff.year, cutoff.month)
        doomed = [
            k
            for k, e in self.entries.items()
            if e.tenant_id == tenant_id and (e.at.year, e.at.month) < month
        ]
        for key in doomed:
            del self.entries[key]
        return len(doomed)


class FakeExpiryWarnings:
    def __init__(self) -> None:
        self.rows: set[ExpiryWarning] = set()

    def schedule(self, warning: ExpiryWarning) -> None:
        self.rows.add(warning)

    def due(self, today: date, limit: int) -> list[ExpiryWarning]:
        return sorted((w for w in self.rows if w.on <= today), key=str)[:limit]

    def remove(self, warning: ExpiryWarning) -> None:
        self.rows.discard(warning)


class FakeOrgSettings:
    def __init__(self) -> None:
        self.chosen: dict[tuple[str, str], str] = {}

    def tracks(self, tenant_id: str) -> dict[str, str]:
        return {d: t for (tenant, d), t in self.chosen.items() if tenant == tenant_id}

    def set_track(self, tenant_id: str, designation_id: str, track: str | None) -> None:
        if track is None:
            self.chosen.pop((tenant_id, designation_id), None)
        else:
            self.chosen[(tenant_id, designation_id)] = track


class FakeOrganizations:
    def __init__(self) -> None:
        self.known: set[str] = set()

    def add(self, tenant_id: str) -> None:
        self.known.add(tenant_id)

    def in_shard(self, shard: int) -> list[str]:
        from shared.adapters.organizations import SHARDS, shard_of

        return sorted(t for t in self.known if shard_of(t) == shard % SHARDS)


def fake_stores(clock: Clock | None = None) -> Stores:
    return Stores(
        users=FakePartnerUsers(),
        learners=FakeLearners(clock),
        wakes=FakeWakes(),
        report=FakeReport(),
        removals=FakeRemovals(),
        queue=FakeCreditQueue(),
        activity=FakeActivity(),
        webhooks=FakeWebhooks(),
        expiry_warnings=FakeExpiryWarnings(),
        intents=FakeIntents(),
        org_settings=FakeOrgSettings(),
        organizations=FakeOrganizations(),
    )


def bootstrap_test_app(settings: Settings, clock: Clock) -> Dependencies:
    """The services exactly as bootstrap wires them, over in-memory stores."""
    return build_context(fake_stores(clock), settings, clock)
