"""In-memory stand-ins for the storage modules, with the same ETag behaviour, for
unit tests of the rules. Every storage module is also tested against Azurite."""

import itertools
import threading
from collections.abc import Sequence
from datetime import date, datetime

from shared.adapters.errors import ConcurrencyConflict, InvalidContinuation
from shared.adapters.ports import LearnerFile, Removal, Versioned, Wake
from shared.domain.model import CredentialRecord, CreditedRecord, LearnerState, PartnerUser
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
            users = [u for u in users if u.linked.learn or u.linked.partner_university]
        return users, None


class FakeLearners:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Versioned[LearnerState]] = {}
        self.credentials: dict[tuple[str, str, str], Versioned[CredentialRecord]] = {}
        self.credited: dict[tuple[str, str, str, str], CreditedRecord] = {}
        self._lock = threading.Lock()

    def read_file(
        self, program: Program, learner_id: str, *, only_credential: str | None = None
    ) -> LearnerFile:
        return LearnerFile(
            state=self.rows.get((program, learner_id)),
            credentials={
                c: v
                for (p, lid, c), v in self.credentials.items()
                if (p, lid) == (program, learner_id) and only_credential in (None, c)
            },
            credited=[
                r
                for (p, lid, _, _), r in self.credited.items()
                if (p, lid) == (program, learner_id)
            ],
        )

    def save_credential(
        self,
        program: Program,
        learner_id: str,
        credential: CredentialRecord,
        etag: str | None,
        *,
        while_unchanged: Versioned[LearnerState] | None,
    ) -> str:
        with self._lock:
            key = (program, learner_id, credential.id)
            current = self.credentials.get(key)
            if (current is None) != (etag is None) or (current and current.etag != etag):
                raise ConcurrencyConflict("conflict")
            self._guard(program, learner_id, while_unchanged)
            new_etag = str(next(_etags))
            self.credentials[key] = Versioned(credential, new_etag)
            return new_etag

    def _guard(
        self, program: Program, learner_id: str, expected: Versioned[LearnerState] | None
    ) -> None:
        """The state row as read, re-written (or created empty) so its ETag moves."""
        state = self.rows.get((program, learner_id))
        if (state is None) != (expected is None) or (
            state is not None and expected is not None and state.etag != expected.etag
        ):
            raise ConcurrencyConflict("state changed")
        value = state.value if state else LearnerState(program=program, learner_id=learner_id)
        self.rows[(program, learner_id)] = Versioned(value, str(next(_etags)))

    def put_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        with self._lock:
            if while_unchanged is not None and records:
                self._guard(program, learner_id, while_unchanged)
            for record in records:
                key = (program, learner_id, record.tenant_id, record.credential.id)
                self.credited[key] = record

    def delete_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        with self._lock:
            if while_unchanged is not None and records:
                self._guard(program, learner_id, while_unchanged)
            for record in records:
                key = (program, learner_id, record.tenant_id, record.credential.id)
                self.credited.pop(key, None)

    def get(self, program: Program, learner_id: str) -> Versioned[LearnerState] | None:
        return self.rows.get((program, learner_id))

    def save(self, state: LearnerState, etag: str | None) -> str:
        with self._lock:
            key = (state.program, state.learner_id)
            current = self.rows.get(key)
            if (etag is None and current is not None) or (
                etag is not None and (current is None or current.etag != etag)
            ):
                raise ConcurrencyConflict("conflict")
            new_etag = str(next(_etags))
            self.rows[key] = Versioned(state, new_etag)
            return new_etag


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

    def delete_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None:
        for row in rows:
            self.rows.pop((tenant_id, row.program, row.learner_id, row.credential_id), None)

    def page(
        self, tenant_id: str, continuation: str | None, page_size: int = 500
    ) -> tuple[list[ReportRow], str | None]:
        return [r for (t, *_), r in sorted(self.rows.items()) if t == tenant_id], None


class FakeRemovals:
    def __init__(self) -> None:
        self.rows: set[Removal] = set()

    def schedule(self, removal: Removal) -> None:
        self.rows.add(removal)

    def due(self, today: date, limit: int) -> list[Removal]:
        return sorted((r for r in self.rows if r.on <= today), key=str)[:limit]

    def remove(self, removal: Removal) -> None:
        self.rows.discard(removal)


class FakeCreditQueue:
    def __init__(self) -> None:
        self.sent: list[Wake] = []

    def send_wake(self, wake: Wake) -> None:
        self.sent.append(wake)
