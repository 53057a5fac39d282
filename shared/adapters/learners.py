"""Table `learners`: one partition per learner (program and learner id).

Rows: `state` (the truth about the learner's associations, changed only under its
ETag), `cred|{id}` (each completed credential, earliest completion kept), and
`credited|{tenant}|{id}` (each credential counted for an organization)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.keys import encode_key, encode_part
from shared.adapters.rows import (
    TRANSACTION_LIMIT,
    chunks,
    conflicts_as_concurrency,
    etag_of,
    parse_row,
)
from shared.adapters.tables import TableStore
from shared.clock import Clock, SystemClock
from shared.domain.learner import Learner
from shared.domain.model import CredentialRecord, CreditedRecord, LearnerState
from shared.domain.types import Program

TABLE = "learners"
STATE_ROW = "state"
CREDENTIAL_PREFIX = "cred|"
CREDITED_PREFIX = "credited|"


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


def _if_unchanged(etag: str) -> dict[str, Any]:
    return {
        "mode": UpdateMode.REPLACE,
        "etag": etag,
        "match_condition": MatchConditions.IfNotModified,
    }


def _state_guard(learner: Learner) -> tuple[Any, ...]:
    """The state row as the learner holds it, written only while it is as loaded:
    replaced under its ETag, or created when the learner had none."""
    entity = _state_entity(learner.state)
    if learner.version is None:
        return ("create", entity)
    return ("update", entity, _if_unchanged(learner.version))


def _credited_entity(partition: str, record: CreditedRecord) -> dict[str, Any]:
    return {
        "PartitionKey": partition,
        "RowKey": credited_row(record.tenant_id, record.credential.id),
        "Data": record.model_dump_json(),
    }


class LearnerTable:
    def __init__(self, store: TableStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def load(
        self,
        program: Program,
        learner_id: str,
        *,
        only_credential: str | None = None,
        state_only: bool = False,
    ) -> Learner:
        """The whole partition in one query (paged past 1,000 rows); with
        only_credential, just the state row and that credential's row; with
        state_only, one point read of the state row."""
        learner = Learner.new(program, learner_id)
        partition = learner_partition(program, learner_id)
        table = self._store.table(TABLE)
        if state_only:
            try:
                entities = [table.get_entity(partition, STATE_ROW)]
            except ResourceNotFoundError:
                return learner
        else:
            parameters: dict[str, Any] = {"pk": partition}
            query = "PartitionKey eq @pk"
            if only_credential is not None:
                query += " and ( RowKey eq @state or RowKey eq @cred )"
                parameters.update(state=STATE_ROW, cred=credential_row(only_credential))
            entities = list(table.query_entities(query, parameters=parameters))
        for entity in entities:
            row, etag = entity["RowKey"], str(entity.metadata["etag"])
            if row == STATE_ROW:
                learner.state = parse_row(LearnerState, entity, TABLE)
                learner.version = etag
            elif row.startswith(CREDENTIAL_PREFIX):
                credential = parse_row(CredentialRecord, entity, TABLE)
                learner.credentials[credential.id] = credential
                learner.credential_versions[credential.id] = etag
            elif row.startswith(CREDITED_PREFIX):
                learner.credited.append(parse_row(CreditedRecord, entity, TABLE))
        learner.forget_removed(self._clock.now())
        return learner

    def commit(self, learner: Learner) -> None:
        """Every change of the learner in one transaction with its state row as loaded
        (more than 100 credited rows: the first transaction carries the guard), so
        two calls that loaded the same learner can never both commit. Raises
        ConcurrencyConflict when the learner changed since it was loaded."""
        if not learner.has_changes:
            return
        partition = learner_partition(learner.program, learner.learner_id)
        table = self._store.table(TABLE)
        writes: list[tuple[Any, ...]] = []
        for credential_id in learner.changed_credentials:
            entity = {
                "PartitionKey": partition,
                "RowKey": credential_row(credential_id),
                "Data": learner.credentials[credential_id].model_dump_json(),
            }
            version = learner.credential_versions.get(credential_id)
            writes.append(
                ("create", entity)
                if version is None
                else ("update", entity, _if_unchanged(version))
            )
        writes += [
            ("upsert", _credited_entity(partition, r), {"mode": UpdateMode.REPLACE})
            for r in learner.new_credited
        ]
        rewritten = {credited_row(r.tenant_id, r.credential.id) for r in learner.new_credited}
        # Rows the refresh took ride along in the guarded transaction while there is
        # room; a row gone already (404) means another commit won: load again.
        room = max(0, TRANSACTION_LIMIT - 1 - len(writes))
        prunes = [
            ("delete", {"PartitionKey": partition, "RowKey": key})
            for key in sorted(
                {credited_row(r.tenant_id, r.credential.id) for r in learner.removed_credited}
                - rewritten
            )[:room]
        ]
        writes += prunes
        with conflicts_as_concurrency(), _transaction_conflicts(*([404] if prunes else [])):
            if not writes:
                guard = _state_guard(learner)
                result = (
                    table.create_entity(guard[1])
                    if learner.version is None
                    else table.update_entity(guard[1], **guard[2])
                )
                learner.committed(etag_of(result), {})
                return
            first = TRANSACTION_LIMIT - 1
            results = table.submit_transaction([_state_guard(learner), *writes[:first]])
        versions = {
            credential_id: etag_of(results[1 + n])
            for n, credential_id in enumerate(learner.changed_credentials)
        }
        for batch in chunks(writes[first:]):
            table.submit_transaction(list(batch))
        learner.committed(etag_of(results[0]), versions)

    def put_credited(self, learner: Learner, records: Sequence[CreditedRecord]) -> None:
        """The first transaction carries the state guard (more than 99 rows: the rest
        follow, idempotent upserts)."""
        partition = learner_partition(learner.program, learner.learner_id)
        table = self._store.table(TABLE)
        upserts = [
            ("upsert", _credited_entity(partition, r), {"mode": UpdateMode.REPLACE})
            for r in records
        ]
        first = TRANSACTION_LIMIT - 1
        with conflicts_as_concurrency(), _transaction_conflicts():
            results = table.submit_transaction([_state_guard(learner), *upserts[:first]])
        learner.committed(etag_of(results[0]), {})
        for batch in chunks(upserts[first:]):
            table.submit_transaction(list(batch))
