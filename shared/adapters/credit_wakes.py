"""Table `creditwakes`: when to look at an association's credits again. Partition =
the due hour (`YYYYMMDDHH`), so the scheduler reads only hours that have come,
and its cost grows with what is due, not with the number of learners.

A row's key holds its exact due instant: two wake-ups of one association never
share a row, so scheduling one can never overwrite another, and removing one can
never remove a wake-up that was written after it was read."""

import contextlib
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_part
from shared.adapters.learners import learner_key_part
from shared.adapters.ports import Wake, hour_slot
from shared.adapters.rows import partitions_up_to
from shared.adapters.tables import TableStore
from shared.wire import program_named

TABLE = "creditwakes"


def _instant_key(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _keys(wake: Wake) -> tuple[str, str]:
    return (
        wake.slot,
        f"{learner_key_part(wake.program, wake.learner_id)}"
        f"|{encode_part(wake.association_id)}|{_instant_key(wake.due_at)}",
    )


class CreditWakeTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def schedule(self, wake: Wake) -> None:
        partition, row = _keys(wake)
        self._store.table(TABLE).upsert_entity(
            {
                "PartitionKey": partition,
                "RowKey": row,
                "Program": wake.program,
                "LearnerId": wake.learner_id,
                "AssociationId": wake.association_id,
                "DueAt": wake.due_at.astimezone(UTC).isoformat(),
            },
            mode=UpdateMode.REPLACE,
        )

    def due(self, now: datetime, limit: int) -> list[Wake]:
        """Wake-ups due at or before now, oldest hour first; later ones in the
        current hour wait for a later run."""

        def due_by_now(entity: dict[str, Any]) -> Wake | None:
            wake = _wake(entity)
            return wake if wake.due_at <= now else None

        return partitions_up_to(self._store.table(TABLE), hour_slot(now), limit, due_by_now)

    def remove(self, wake: Wake) -> None:
        partition, row = _keys(wake)
        with contextlib.suppress(ResourceNotFoundError):
            self._store.table(TABLE).delete_entity(partition, row)


def _wake(entity: dict[str, Any]) -> Wake:
    return Wake(
        program=program_named(entity["Program"]),
        learner_id=entity["LearnerId"],
        association_id=entity["AssociationId"],
        due_at=datetime.fromisoformat(entity["DueAt"]),
    )
