"""Table `reportremovals`: which organization's rows of which learner to look at on
a refresh. Partition = the removal date (`YYYY-MM-DD`), so a refresh reads only
dates that have come: its cost grows with what is due, not with the users."""

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_part
from shared.adapters.learners import learner_key_part
from shared.adapters.ports import Removal
from shared.adapters.rows import delete_idempotently, partitions_up_to
from shared.adapters.tables import TableStore
from shared.wire import program_named

TABLE = "reportremovals"


def _keys(removal: Removal) -> tuple[str, str]:
    return (
        removal.on.isoformat(),
        f"{encode_part(removal.tenant_id)}|{learner_key_part(removal.program, removal.learner_id)}",
    )


class ReportRemovalTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def schedule(self, removal: Removal) -> None:
        partition, row = _keys(removal)
        self._store.table(TABLE).upsert_entity(
            {
                "PartitionKey": partition,
                "RowKey": row,
                "TenantId": removal.tenant_id,
                "Program": removal.program,
                "LearnerId": removal.learner_id,
            },
            mode=UpdateMode.REPLACE,
        )

    def due(self, today: date, limit: int) -> list[Removal]:
        return partitions_up_to(self._store.table(TABLE), today.isoformat(), limit, _removal)

    def remove_many(self, removals: Sequence[Removal]) -> None:
        keys = sorted(_keys(r) for r in removals)
        for partition, rows in groupby(keys, key=lambda k: k[0]):
            delete_idempotently(self._store.table(TABLE), partition, [row for _, row in rows])


def _removal(entity: dict[str, Any]) -> Removal:
    return Removal(
        on=date.fromisoformat(entity["PartitionKey"]),
        tenant_id=entity["TenantId"],
        program=program_named(entity["Program"]),
        learner_id=entity["LearnerId"],
    )
