"""Table `intents`: changes that span partitions and have not finished yet.
Partition = the hour the intent was written (`YYYYMMDDHH`), so the reconciler reads
only hours that are old enough, and its cost grows with what crashed, not with the
number of users. Written with one upsert on the request path; removed by the reconciler
once done, up to 100 in a transaction."""

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.keys import encode_part
from shared.adapters.ports import Intent, hour_slot
from shared.adapters.rows import delete_idempotently, partitions_up_to
from shared.adapters.tables import TableStore
from shared.wire import program_named

TABLE = "intents"


def _keys(intent: Intent) -> tuple[str, str]:
    parts = (
        intent.kind,
        intent.tenant_id,
        intent.email,
        intent.program or "",
        intent.learner_id or "",
        intent.association_id or "",
        intent.written_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
        # The start and the end of one association at one instant are two intents.
        *((intent.marker_id,) if intent.marker_id else ()),
    )
    return intent.slot, "|".join(encode_part(part) for part in parts)


class IntentTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def write(self, intent: Intent) -> None:
        partition, row = _keys(intent)
        self._store.table(TABLE).upsert_entity(
            {
                "PartitionKey": partition,
                "RowKey": row,
                "Kind": intent.kind,
                "TenantId": intent.tenant_id,
                "Email": intent.email,
                "WrittenAt": intent.written_at.astimezone(UTC).isoformat(),
                "Program": intent.program or "",
                "LearnerId": intent.learner_id or "",
                "AssociationId": intent.association_id or "",
                "MarkerId": intent.marker_id or "",
                "MarkerAt": intent.marker_at.astimezone(UTC).isoformat()
                if intent.marker_at
                else "",
            }
        )

    def older_than(self, cutoff: datetime, limit: int) -> list[Intent]:
        def written_before(entity: dict[str, Any]) -> Intent | None:
            intent = _intent(entity)
            return intent if intent.written_at <= cutoff else None

        return partitions_up_to(self._store.table(TABLE), hour_slot(cutoff), limit, written_before)

    def remove_many(self, intents: Sequence[Intent]) -> None:
        by_partition: dict[str, list[str]] = {}
        for intent in intents:
            partition, row = _keys(intent)
            by_partition.setdefault(partition, []).append(row)
        table = self._store.table(TABLE)
        for partition, rows in by_partition.items():
            delete_idempotently(table, partition, list(dict.fromkeys(rows)))

    def remove(self, intent: Intent) -> None:
        """One plain delete (a one-row transaction costs twice as much)."""
        partition, row = _keys(intent)
        with contextlib.suppress(ResourceNotFoundError):
            self._store.table(TABLE).delete_entity(partition, row)


def _intent(entity: dict[str, Any]) -> Intent:
    kind = entity["Kind"]
    assert kind in ("association", "departure"), kind
    return Intent(
        kind=kind,
        tenant_id=entity["TenantId"],
        email=entity["Email"],
        written_at=datetime.fromisoformat(entity["WrittenAt"]),
        program=program_named(entity["Program"]) if entity.get("Program") else None,
        learner_id=entity.get("LearnerId") or None,
        association_id=entity.get("AssociationId") or None,
        marker_id=entity.get("MarkerId") or None,
        marker_at=datetime.fromisoformat(entity["MarkerAt"]) if entity.get("MarkerAt") else None,
    )
