"""Table `learners`: one partition per learner (program and learner id).

Rows: `state` (the truth about the learner's associations, changed only under its
ETag), `cred|{id}` (each completed credential, earliest completion kept), and
`credited|{tenant}|{id}` (each credential counted for an organization)."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.keys import encode_key, encode_part
from shared.adapters.ports import LearnerFile, Versioned
from shared.adapters.rows import (
    conflicts_as_concurrency,
    delete_idempotently,
    etag_of,
    parse_row,
)
from shared.adapters.tables import TableStore
from shared.domain.model import CredentialRecord, CreditedRecord, LearnerState
from shared.wire import Program

TABLE = "learners"
STATE_ROW = "state"
CREDENTIAL_PREFIX = "cred|"
CREDITED_PREFIX = "credited|"
TRANSACTION_LIMIT = 100


def learner_partition(program: Program, learner_id: str) -> str:
    return f"{program}:{encode_key(learner_id)}"


def learner_key_part(program: Program, learner_id: str) -> str:
    """The learner inside a composite key of another table."""
    return f"{program}:{encode_part(learner_id)}"


def credential_row(credential_id: str) -> str:
    return CREDENTIAL_PREFIX + encode_key(credential_id)


def credited_row(tenant_id: str, credential_id: str) -> str:
    return f"{CREDITED_PREFIX}{encode_part(tenant_id)}|{encode_part(credential_id)}"


def _state_entity(state: LearnerState) -> dict[str, Any]:
    active = state.active
    return {
        "PartitionKey": learner_partition(state.program, state.learner_id),
        "RowKey": STATE_ROW,
        "ActiveAssociationId": active.association_id if active else "",
        "Data": state.model_dump_json(),
    }


@contextmanager
def _transaction_conflicts(*statuses: int) -> Iterator[None]:
    """A transaction refused because a row it expected changed (409, 412, or any
    status given) is a conflict: re-read and try again."""
    from azure.data.tables import TableTransactionError

    try:
        yield
    except TableTransactionError as error:
        if error.status_code in (409, 412, *statuses):
            raise ConcurrencyConflict(str(error)) from error
        raise


def _state_guard(
    program: Program, learner_id: str, expected: Versioned[LearnerState] | None
) -> tuple[Any, ...]:
    """A transaction operation that holds only while the state row is as read: a
    re-write under its ETag, or the creation of an empty one when there was none."""
    if expected is None:
        return ("create", _state_entity(LearnerState(program=program, learner_id=learner_id)))
    return (
        "update",
        _state_entity(expected.value),
        {
            "mode": UpdateMode.REPLACE,
            "etag": expected.etag,
            "match_condition": MatchConditions.IfNotModified,
        },
    )


def chunks(items: Sequence[Any], size: int = TRANSACTION_LIMIT) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LearnerTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def get(self, program: Program, learner_id: str) -> Versioned[LearnerState] | None:
        try:
            entity = self._store.table(TABLE).get_entity(
                learner_partition(program, learner_id), STATE_ROW
            )
        except ResourceNotFoundError:
            return None
        state = parse_row(LearnerState, entity, TABLE)
        return Versioned(state, str(entity.metadata["etag"]))

    def save(self, state: LearnerState, etag: str | None) -> str:
        table = self._store.table(TABLE)
        with conflicts_as_concurrency():
            if etag is None:
                return etag_of(table.create_entity(_state_entity(state)))
            return etag_of(
                table.update_entity(
                    _state_entity(state),
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            )

    def read_file(
        self, program: Program, learner_id: str, *, only_credential: str | None = None
    ) -> LearnerFile:
        """The whole partition in one query (paged past 1,000 rows), or with
        only_credential just the state row and that credential's row."""
        parameters: dict[str, Any] = {"pk": learner_partition(program, learner_id)}
        query = "PartitionKey eq @pk"
        if only_credential is not None:
            query += " and ( RowKey eq @state or RowKey eq @cred )"
            parameters.update(state=STATE_ROW, cred=credential_row(only_credential))
        found = LearnerFile()
        for entity in self._store.table(TABLE).query_entities(query, parameters=parameters):
            row, etag = entity["RowKey"], str(entity.metadata["etag"])
            if row == STATE_ROW:
                found.state = Versioned(parse_row(LearnerState, entity, TABLE), etag)
            elif row.startswith(CREDENTIAL_PREFIX):
                credential = parse_row(CredentialRecord, entity, TABLE)
                found.credentials[credential.id] = Versioned(credential, etag)
            elif row.startswith(CREDITED_PREFIX):
                found.credited.append(parse_row(CreditedRecord, entity, TABLE))
        return found

    def save_credential(
        self,
        program: Program,
        learner_id: str,
        credential: CredentialRecord,
        etag: str | None,
        *,
        while_unchanged: Versioned[LearnerState] | None,
    ) -> str:
        """Insert (etag None) or replace the credential in one transaction with the
        state guard, so an ingest and a link that read the learner at the same time
        cannot both miss each other: one of them conflicts and looks again."""
        entity = {
            "PartitionKey": learner_partition(program, learner_id),
            "RowKey": credential_row(credential.id),
            "Data": credential.model_dump_json(),
        }
        write: tuple[Any, ...] = (
            ("create", entity)
            if etag is None
            else (
                "update",
                entity,
                {
                    "mode": UpdateMode.REPLACE,
                    "etag": etag,
                    "match_condition": MatchConditions.IfNotModified,
                },
            )
        )
        with conflicts_as_concurrency(), _transaction_conflicts():
            results = self._store.table(TABLE).submit_transaction(
                [write, _state_guard(program, learner_id, while_unchanged)]
            )
        return etag_of(results[0])

    def put_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        """Idempotent upserts, at most 100 to a transaction. With while_unchanged, the
        first transaction also re-writes the state row under its ETag, so credit is
        written only while the association it was checked against still stands."""
        if not records:
            return
        partition = learner_partition(program, learner_id)
        table = self._store.table(TABLE)
        guard: list[Any] = []
        if while_unchanged is not None:
            guard = [_state_guard(program, learner_id, while_unchanged)]
        upserts = [
            (
                "upsert",
                {
                    "PartitionKey": partition,
                    "RowKey": credited_row(r.tenant_id, r.credential.id),
                    "Data": r.model_dump_json(),
                },
                {"mode": UpdateMode.REPLACE},
            )
            for r in records
        ]
        first = TRANSACTION_LIMIT - len(guard)
        with conflicts_as_concurrency(), _transaction_conflicts():
            table.submit_transaction([*guard, *upserts[:first]])
        for batch in chunks(upserts[first:]):
            table.submit_transaction(list(batch))

    def delete_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        """Without a guard, idempotent. With while_unchanged, the first transaction
        also re-writes the state row under its ETag, and a row already gone is a
        conflict too: the caller re-reads and decides again."""
        partition = learner_partition(program, learner_id)
        rows = [credited_row(r.tenant_id, r.credential.id) for r in records]
        table = self._store.table(TABLE)
        if while_unchanged is None or not rows:
            delete_idempotently(table, partition, rows)
            return
        first = TRANSACTION_LIMIT - 1
        deletes = [("delete", {"PartitionKey": partition, "RowKey": row}) for row in rows]
        with conflicts_as_concurrency(), _transaction_conflicts(404):
            table.submit_transaction(
                [_state_guard(program, learner_id, while_unchanged), *deletes[:first]]
            )
        delete_idempotently(table, partition, rows[first:])
