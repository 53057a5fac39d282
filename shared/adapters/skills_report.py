"""Table `skillsreport`: one partition per organization, one row per credential
counted for it (program, learner, credential), so a credential is never shown
twice for the same organization (rule 8) and a report page is one query."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from azure.core import MatchConditions
from azure.data.tables import TableTransactionError, UpdateMode

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.keys import encode_key, encode_part
from shared.adapters.ports import Versioned
from shared.adapters.rows import (
    chunks,
    decode_continuation,
    encode_continuation,
    parse_row,
)
from shared.adapters.tables import TableStore
from shared.domain.model import CreditedRecord
from shared.domain.types import Program
from shared.wire import ReportRow

TABLE = "skillsreport"
PAGE_SIZE = 500


def report_row_of(program: Program, learner_id: str, credited: CreditedRecord) -> ReportRow:
    """The Skills Report row that projects a learner's credited row."""
    return ReportRow(
        email=credited.user_email,
        display_name=credited.display_name,
        program=program,
        learner_id=learner_id,
        credential_id=credited.credential.id,
        kind=credited.credential.kind,
        title=credited.credential.title,
        completed_at=credited.credential.completed_at,
        credited_at=credited.credited_at,
        removal_on=credited.removal_on,
        expires_at=credited.credential.expires_at,
    )


def report_row_key(row: ReportRow) -> str:
    return f"{row.program}:{encode_part(row.learner_id)}|{encode_part(row.credential_id)}"


def _entity(partition: str, row: ReportRow) -> dict[str, Any]:
    """`RemovalOn` beside the row's data, so the refresh finds an organization's due
    rows with one filter (absent while the row has no removal date)."""
    entity = {
        "PartitionKey": partition,
        "RowKey": report_row_key(row),
        "Data": row.model_dump_json(),
    }
    if row.removal_on is not None:
        entity["RemovalOn"] = row.removal_on.isoformat()
    return entity


class SkillsReportTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def put_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None:
        """Idempotent upserts in transactions of at most 100 (one partition)."""
        partition = encode_key(tenant_id)
        table = self._store.table(TABLE)
        for batch in chunks(rows):
            table.submit_transaction(
                [
                    (
                        "upsert",
                        _entity(partition, row),
                        {"mode": UpdateMode.REPLACE},
                    )
                    for row in batch
                ]
            )

    def due_for_removal(self, tenant_id: str, today: date) -> list[Versioned[ReportRow]]:
        entities = self._store.table(TABLE).query_entities(
            "PartitionKey eq @tenant and RemovalOn le @today",
            parameters={"tenant": encode_key(tenant_id), "today": today.isoformat()},
            select=["PartitionKey", "RowKey", "Data"],
        )
        return [
            Versioned(parse_row(ReportRow, e, TABLE), str(e.metadata["etag"])) for e in entities
        ]

    def delete_unchanged(self, tenant_id: str, rows: Sequence[Versioned[ReportRow]]) -> None:
        partition = encode_key(tenant_id)
        table = self._store.table(TABLE)
        for batch in chunks(rows):
            try:
                table.submit_transaction(
                    [
                        (
                            "delete",
                            {"PartitionKey": partition, "RowKey": report_row_key(r.value)},
                            {"etag": r.etag, "match_condition": MatchConditions.IfNotModified},
                        )
                        for r in batch
                    ]
                )
            except TableTransactionError as error:
                if error.status_code in (404, 409, 412):
                    raise ConcurrencyConflict(str(error)) from error
                raise

    def page(
        self, tenant_id: str, continuation: str | None, page_size: int = PAGE_SIZE
    ) -> tuple[list[ReportRow], str | None]:
        parameters: dict[str, Any] = {"tenant": encode_key(tenant_id)}
        pages = (
            self._store.table(TABLE)
            .query_entities(
                "PartitionKey eq @tenant",
                parameters=parameters,
                results_per_page=page_size,
                select=["PartitionKey", "RowKey", "Data"],
            )
            .by_page(continuation_token=decode_continuation(continuation))  # type: ignore[arg-type]
        )
        rows = [parse_row(ReportRow, entity, TABLE) for entity in next(pages, [])]
        return rows, encode_continuation(getattr(pages, "continuation_token", None))
