"""Table `activity`: one partition per organization (`o|{tenant}`), rows keyed by an
inverted timestamp and the entry id. So an organization's log, newest first, is one
range of one partition: a page is one query however sparse the log (a page used to
read up to six month partitions, one query each), an entry written twice is one row,
and what the retention removes is the tail of each organization's partition (the
organizations to visit come from the `organizations` registry, a shard a day)."""

import base64
import binascii
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.errors import InvalidContinuation
from shared.adapters.keys import encode_part
from shared.adapters.rows import chunks, delete_idempotently, parse_row
from shared.adapters.tables import TableStore, query_page
from shared.domain.activity import ActivityRecord

TABLE = "activity"
NEWEST = 10**19 - 1
_MONTH = re.compile(r"^[0-9]{6}$")
_PREFIX = "o|"
"""No partition of the month-first layout this replaced (`YYYYMM|…`) starts so."""


def write_order(entries: Sequence[ActivityRecord], last: str | None) -> list[ActivityRecord]:
    """The entries in the order `put` writes them, with the partition of the entry
    `last` written last and that entry last in it: its presence then says every
    other entry was written."""
    marker = next((e for e in entries if e.id == last), None)
    if marker is None:
        return list(entries)
    first = [e for e in entries if e.tenant_id != marker.tenant_id]
    same = [e for e in entries if e.tenant_id == marker.tenant_id and e.id != last]
    return [*first, *same, marker]


def _partition(tenant_id: str) -> str:
    return _PREFIX + encode_part(tenant_id)


def _inverted(at: datetime) -> str:
    return f"{NEWEST - int(at.timestamp() * 1_000_000):019d}"


def _encode(token: Any) -> str:
    raw = json.dumps({"t": token}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(continuation: str) -> tuple[dict[str, str] | None, str | None]:
    """The table's own token; or, from a token issued by the month-first layout, the
    month to read back from. Anything else is invalid."""
    try:
        data = json.loads(base64.urlsafe_b64decode(continuation.encode("ascii") + b"=="))
    except (binascii.Error, ValueError, UnicodeEncodeError, RecursionError) as error:
        raise InvalidContinuation(continuation) from error
    if not isinstance(data, dict):
        raise InvalidContinuation(continuation)
    month = data.get("m")
    if month is not None:
        if not (isinstance(month, str) and _MONTH.fullmatch(month) and 1 <= int(month[4:]) <= 12):
            raise InvalidContinuation(continuation)
        return None, month
    token = data.get("t")
    # The next keys are the table's; a forged pair cannot leave this organization's
    # partition, which the query names.
    if not (
        isinstance(token, dict)
        and set(token) == {"PartitionKey", "RowKey"}
        and all(v is None or isinstance(v, str) for v in token.values())
    ):
        raise InvalidContinuation(continuation)
    return token, None


def _end_of(month: str) -> datetime:
    """The last instant of the month."""
    year, number = int(month[:4]), int(month[4:])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=UTC) - timedelta(microseconds=1)


def _entity(row: ActivityRecord) -> dict[str, Any]:
    return {
        "PartitionKey": _partition(row.tenant_id),
        "RowKey": f"{_inverted(row.at)}|{row.id}",
        "Type": row.type,
        "Email": row.email,
        "Data": row.model_dump_json(),
    }


class ActivityTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def put(self, entries: Sequence[ActivityRecord]) -> None:
        """Idempotent upserts, one transaction per organization (at most 100 rows
        each): usually one request for the change that made them."""
        by_partition: dict[str, list[ActivityRecord]] = {}
        for entry in entries:
            by_partition.setdefault(_partition(entry.tenant_id), []).append(entry)
        table = self._store.table(TABLE)
        for rows in by_partition.values():
            unique = [_entity(row) for row in {row.id: row for row in rows}.values()]
            if len(unique) == 1:
                # The common case (one change, one entry): a plain upsert costs less.
                table.upsert_entity(unique[0], mode=UpdateMode.REPLACE)
                continue
            for batch in chunks(unique):
                table.submit_transaction(
                    [("upsert", entity, {"mode": UpdateMode.REPLACE}) for entity in batch]
                )

    def exists(self, tenant_id: str, at: datetime, entry_id: str) -> bool:
        try:
            self._store.table(TABLE).get_entity(
                _partition(tenant_id), f"{_inverted(at)}|{entry_id}", select=["RowKey"]
            )
        except ResourceNotFoundError:
            return False
        return True

    def remove_before(self, tenant_id: str, cutoff: datetime) -> int:
        """The organization's entries of the months before the cutoff's month: the
        tail of its partition, one range query and deletes of up to 100 a request.
        Returns how many."""
        month_start = cutoff.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        table = self._store.table(TABLE)
        partition = _partition(tenant_id)
        doomed = [
            entity["RowKey"]
            for entity in table.query_entities(
                "PartitionKey eq @pk and RowKey gt @cut",
                parameters={"pk": partition, "cut": _inverted(month_start) + "|~"},
                select=["RowKey"],
            )
        ]
        delete_idempotently(table, partition, doomed)
        return len(doomed)

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
        """Newest first, from `until` back to `since`: one range query of the
        organization's partition, continued with the table's own token."""
        token, month = _decode(continuation) if continuation else (None, None)
        newest = min(until, _end_of(month)) if month else until
        if newest < since:
            return [], None
        query = "PartitionKey eq @pk and RowKey ge @newest and RowKey le @oldest"
        parameters: dict[str, str] = {
            "pk": _partition(tenant_id),
            "newest": _inverted(newest),
            "oldest": _inverted(since) + "|~",
        }
        if types:
            query += " and ( " + " or ".join(f"Type eq @t{n}" for n in range(len(types))) + " )"
            parameters.update({f"t{n}": kind for n, kind in enumerate(types)})
        if email:
            query += " and Email eq @email"
            parameters["email"] = email
        entities, following = query_page(
            self._store.table(TABLE),
            query,
            parameters=parameters,
            # The partition is the one asked for: not read back 100 times a page.
            select=["RowKey", "Data"],
            top=page_size,
            continuation=token,
        )
        partition = parameters["pk"]
        found = [
            parse_row(ActivityRecord, {**e, "PartitionKey": partition}, TABLE) for e in entities
        ]
        return found, _encode(following) if following else None
