"""Table `learners`: one partition per learner (program and learner id). Its
`state` row is the truth about the learner's associations and changes only
under its ETag."""

from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.domain import LearnerState
from shared.keys import encode_key
from shared.models import Program
from shared.storage.ports import Versioned
from shared.storage.tables import TableStore
from shared.storage.versioned import conflicts_as_concurrency, etag_of

TABLE = "learners"
STATE_ROW = "state"


def learner_partition(program: Program, learner_id: str) -> str:
    return f"{program}:{encode_key(learner_id)}"


def _entity(state: LearnerState) -> dict[str, Any]:
    active = state.active
    return {
        "PartitionKey": learner_partition(state.program, state.learner_id),
        "RowKey": STATE_ROW,
        "ActiveAssociationId": active.association_id if active else "",
        "Data": state.model_dump_json(),
    }


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
        state = LearnerState.model_validate_json(entity["Data"])
        return Versioned(state, str(entity.metadata["etag"]))

    def save(self, state: LearnerState, etag: str | None) -> str:
        table = self._store.table(TABLE)
        with conflicts_as_concurrency():
            if etag is None:
                return etag_of(table.create_entity(_entity(state)))
            return etag_of(
                table.update_entity(
                    _entity(state),
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            )
