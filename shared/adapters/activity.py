"""Table `activity`: one partition per month and organization (`YYYYMM|{tenant}`), rows
keyed by an inverted timestamp and the entry id, so the newest entries of a month
come first in one range query, an entry written twice is one row, and the months
past the retention are one range of partitions (removal costs what it removes)."""

import base64
import binascii
import json
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.errors import InvalidContinuation
from shared.adapters.keys import encode_part
from shared.adapters.rows import chunks, delete_idempotently, parse_row
from shared.adapters.tables import TableStore
from shared.domain.activity import ActivityRecord

TABLE = "activity"
NEWEST = 10**19 - 1
_MONTH = re.compile(r"^[0-9]{6}$")
MONTHS_PER_PAGE = 6
"""A page reads at most this many months; past them it answers with a continuation."""


def write_order(entries: Sequence[ActivityRecord], last: str | None) -> list[ActivityRecord]:
    """The entries in the order `put` writes them, with the partition of the entry
    `last` written last and that entry last in it: its presence then says every
    other entry was written."""
    marker = next((e for e in entries if e.id == last), None)
    if marker is None:
        return list(entries)
    final = (marker.tenant_id, month_of(marker.at))
    first = [e for e in entries if (e.tenant_id, month_of(e.at)) != final]
    same = [e for e in entries if (e.tenant_id, month_of(e.at)) == final and e.id != last]
    return [*first, *same, marker]


def month_of(at: datetime) -> str:
    return at.strftime("%Y%m")


def _partition(tenant_id: str, month: str) -> str:
    return f"{month}|{encode_part(tenant_id)}"


def _inverted(at: datetime) -> str:
    return f"{NEWEST - int(at.timestamp() * 1_000_000):019d}"


def _months_back(newest: datetime, oldest: datetime) -> Iterator[str]:
    year, month = newest.year, newest.month
    while (year, month) >= (oldest.year, oldest.month):
        yield f"{year:04d}{month:02d}"
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)


def _encode(month: str, token: Any) -> str:
    raw = json.dumps({"m": month, "t": token}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(continuation: str) -> tuple[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(continuation.encode("ascii") + b"=="))
    except (binascii.Error, ValueError, UnicodeEncodeError, RecursionError) as error:
        raise InvalidContinuation(continuation) from error
    month = data.get("m") if isinstance(data, dict) else None
    if not isinstance(month, str) or not _MONTH.fullmatch(month) or not 1 <= int(month[4:]) <= 12:
        raise InvalidContinuation(continuation)
    token = data.get("t")
    if token is not None and not (
        isinstance(token, dict) and all(isinstance(v, str) for v in token.values())
    ):
        raise InvalidContinuation(continuation)
    return data["m"], token


def _entity(partition: str, row: ActivityRecord) -> dict[str, Any]:
    return {
        "PartitionKey": partition,
        "RowKey": f"{_inverted(row.at)}|{row.id}",
        "Type": row.type,
        "Email": row.email,
        "Data": row.model_dump_json(),
    }


class ActivityTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def put(self, entries: Sequence[ActivityRecord]) -> None:
        """Idempotent upserts, one transaction per organization and month (at most
        100 rows each): usually one request for the change that made them."""
        by_partition: dict[str, list[ActivityRecord]] = {}
        for entry in entries:
            by_partition.setdefault(_partition(entry.tenant_id, month_of(entry.at)), []).append(
                entry
            )
        table = self._store.table(TABLE)
        for partition, rows in by_partition.items():
            unique = [_entity(partition, row) for row in {row.id: row for row in rows}.values()]
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
                _partition(tenant_id, month_of(at)),
                f"{_inverted(at)}|{entry_id}",
                select=["RowKey"],
            )
        except ResourceNotFoundError:
            return False
        return True

    def remove_months_before(self, cutoff: datetime) -> int:
        """Every entry of the months before the cutoff's month (whole partitions, one
        range query): what the retention no longer keeps. Returns how many."""
        table = self._store.table(TABLE)
        doomed = table.query_entities(
            "PartitionKey lt @month",
            parameters={"month": month_of(cutoff)},
            select=["PartitionKey", "RowKey"],
        )
        by_partition: dict[str, list[str]] = {}
        for entity in doomed:
            by_partition.setdefault(entity["PartitionKey"], []).append(entity["RowKey"])
        for partition, rows in by_partition.items():
            delete_idempotently(table, partition, rows)
        return sum(len(rows) for rows in by_partition.values())

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
        """Newest first, from `until` back to `since`, month by month."""
        start_month, token = _decode(continuation) if continuation else (month_of(until), None)
        query = "PartitionKey eq @pk and RowKey ge @newest and RowKey le @oldest"
        parameters: dict[str, Any] = {
            "newest": _inverted(until),
            "oldest": _inverted(since) + "|~",
        }
        if types:
            query += " and ( " + " or ".join(f"Type eq @t{n}" for n in range(len(types))) + " )"
            parameters.update({f"t{n}": kind for n, kind in enumerate(types)})
        if email:
            query += " and Email eq @email"
            parameters["email"] = email
        table = self._store.table(TABLE)
        months = list(_months_back(min(until, _end_of(start_month)), since))
        more = months[MONTHS_PER_PAGE] if len(months) > MONTHS_PER_PAGE else None
        months = months[:MONTHS_PER_PAGE]

        resume_from = token.get("from") if isinstance(token, dict) else None

        def read(month: str, size: int) -> tuple[list[dict[str, Any]], Any]:
            bounds = {**parameters, "pk": _partition(tenant_id, month)}
            if month == start_month and resume_from is not None:
                bounds["newest"] = max(bounds["newest"], resume_from)
            sdk_token = token if month == start_month and resume_from is None else None
            pages = table.query_entities(
                query,
                parameters=bounds,
                results_per_page=size,
                select=["PartitionKey", "RowKey", "Data"],
            ).by_page(continuation_token=sdk_token)
            return list(next(pages, [])), getattr(pages, "continuation_token", None)

        if not months:
            return [], None
        # The newest month first (a busy log fills the page from it); the older months
        # of the page together, so a sparse log costs two round trips, not six.
        reads = [read(months[0], page_size)]
        if len(reads[0][0]) < page_size and not reads[0][1] and len(months) > 1:
            left = page_size - len(reads[0][0])
            with ThreadPoolExecutor(max_workers=len(months) - 1) as pool:
                reads += list(pool.map(lambda m: read(m, left), months[1:]))
        found: list[ActivityRecord] = []
        for month, (entities, next_token) in zip(months, reads, strict=False):
            room = page_size - len(found)
            taken = entities[:room]
            found += [parse_row(ActivityRecord, e, TABLE) for e in taken]
            if len(entities) > room:
                # Cut inside a month read in parallel: the next page starts at the
                # first entry not taken (a bound of the query, not a table token).
                return found, _encode(month, {"from": entities[room]["RowKey"]})
            if next_token:
                return found, _encode(month, next_token)
            if len(found) >= page_size:
                older = next(iter(_months_back(_previous(month), since)), None)
                return found, _encode(older, None) if older else None
        if more is not None:
            return found, _encode(more, None)
        return found, None


def _end_of(month: str) -> datetime:
    """An instant inside the month, enough to start walking back from it."""
    return datetime(int(month[:4]), int(month[4:]), 28, tzinfo=UTC)


def _previous(month: str) -> datetime:
    year, number = int(month[:4]), int(month[4:])
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return datetime(year, number, 28)
