"""Table `expirywarnings`: which credited credential to warn about on which day.
Partition = the day (`YYYY-MM-DD`), so the daily timer reads only the days that have
come: its cost grows with the credentials due a warning, not with all credentials."""

import contextlib
from datetime import date, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_part
from shared.adapters.learners import learner_key_part
from shared.adapters.ports import ExpiryWarning, WarningKind
from shared.adapters.rows import partitions_up_to
from shared.adapters.tables import TableStore
from shared.domain.types import program_named

TABLE = "expirywarnings"


def _keys(warning: ExpiryWarning) -> tuple[str, str]:
    return (
        warning.on.isoformat(),
        "|".join(
            (
                warning.kind,
                encode_part(warning.tenant_id),
                learner_key_part(warning.program, warning.learner_id),
                encode_part(warning.credential_id),
                warning.expires_at.strftime("%Y%m%dT%H%M%S.%fZ"),
            )
        ),
    )


class ExpiryWarningTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def schedule(self, warning: ExpiryWarning) -> None:
        partition, row = _keys(warning)
        self._store.table(TABLE).upsert_entity(
            {
                "PartitionKey": partition,
                "RowKey": row,
                "Kind": warning.kind,
                "TenantId": warning.tenant_id,
                "Program": warning.program,
                "LearnerId": warning.learner_id,
                "CredentialId": warning.credential_id,
                "ExpiresAt": warning.expires_at.isoformat(),
            },
            mode=UpdateMode.REPLACE,
        )

    def due(self, today: date, limit: int) -> list[ExpiryWarning]:
        return partitions_up_to(self._store.table(TABLE), today.isoformat(), limit, _warning)

    def remove(self, warning: ExpiryWarning) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._store.table(TABLE).delete_entity(*_keys(warning))


def _warning(entity: dict[str, Any]) -> ExpiryWarning:
    kind: WarningKind = "expired" if entity["Kind"] == "expired" else "expiring"
    return ExpiryWarning(
        on=date.fromisoformat(entity["PartitionKey"]),
        kind=kind,
        tenant_id=entity["TenantId"],
        program=program_named(entity["Program"]),
        learner_id=entity["LearnerId"],
        credential_id=entity["CredentialId"],
        expires_at=datetime.fromisoformat(entity["ExpiresAt"]),
    )
