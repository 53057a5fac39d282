"""Rows as stored: a model in a `Data` column, continuation tokens, the due-index query,
idempotent deletes and transactions of at most 100 operations."""

import base64
import binascii
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from pydantic import BaseModel, ValidationError

from shared.adapters.errors import ConcurrencyConflict, CorruptRow, InvalidContinuation


@contextmanager
def conflicts_as_concurrency() -> Iterator[None]:
    try:
        yield
    except (ResourceModifiedError, ResourceExistsError) as error:
        raise ConcurrencyConflict(str(error)) from error


def etag_of(result: Any) -> str:
    return str(result["etag"])


def encode_continuation(token: Any) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token, sort_keys=True).encode()).decode()


def decode_continuation(
    token: str | None, expected_keys: frozenset[str] = frozenset({"PartitionKey", "RowKey"})
) -> dict[str, str] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=="))
    except (binascii.Error, ValueError, UnicodeEncodeError, RecursionError) as error:
        raise InvalidContinuation(token) from error
    if (
        not isinstance(decoded, dict)
        or not set(decoded) <= expected_keys
        or not all(isinstance(v, str) for v in decoded.values())
    ):
        raise InvalidContinuation(token)
    return decoded


def delete_idempotently(table: Any, partition: str, row_keys: list[str]) -> None:
    """Delete rows in transactions of at most 100; a row already gone (a re-run after
    a crash) makes its transaction fail, so that chunk is retried row by row."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import TableTransactionError

    for chunk in chunks(row_keys):
        try:
            table.submit_transaction(
                [("delete", {"PartitionKey": partition, "RowKey": row}) for row in chunk]
            )
        except TableTransactionError as error:
            if error.status_code != 404:
                raise
            for row in chunk:
                with contextlib.suppress(ResourceNotFoundError):
                    table.delete_entity(partition, row)


M = TypeVar("M", bound=BaseModel)


def parse_row(model: type[M], entity: Mapping[str, Any], table: str) -> M:
    """A stored row's `Data` as the model it holds; CorruptRow (with the keys, for
    the log) when it does not parse."""
    try:
        return model.model_validate_json(entity["Data"])
    except (ValidationError, KeyError, TypeError) as error:
        raise CorruptRow(
            table, str(entity.get("PartitionKey", "?")), str(entity.get("RowKey", "?"))
        ) from error


D = TypeVar("D")


def partitions_up_to(
    table: Any, last_partition: str, limit: int, parse: Callable[[dict[str, Any]], D | None]
) -> list[D]:
    """The rows of every partition up to `last_partition` (an index keyed by day or
    hour: what is due), parsed, at most `limit`; parse may skip a row (None)."""
    entities = table.query_entities(
        "PartitionKey le @last",
        parameters={"last": last_partition},
        results_per_page=min(limit, 1000),
    )
    found: list[D] = []
    for entity in entities:
        item = parse(entity)
        if item is None:
            continue
        found.append(item)
        if len(found) >= limit:
            break
    return found


TRANSACTION_LIMIT = 100
"""Operations in one table transaction (one partition); Azurite fails badly past it."""


def chunks(items: Sequence[Any], size: int = TRANSACTION_LIMIT) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
