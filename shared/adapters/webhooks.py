"""Table `webhooks`: one partition per organization, one row per endpoint, and one
counter row. Lists are cached in the process for a short while, so writing an
activity entry for an organization without webhooks costs no storage request.

The counter row is what makes the limit exact: an endpoint is added or deleted in one
transaction with the counter, under the counter's ETag, so two registrations that
both counted nine cannot both commit."""

import threading
import time
from collections.abc import Sequence
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.keys import encode_key
from shared.adapters.ports import Versioned
from shared.adapters.rows import parse_row
from shared.adapters.tables import TableStore
from shared.domain.webhooks import WebhookRecord

TABLE = "webhooks"
CACHE_SECONDS = 30.0
COUNTER_ROW = "~count"
"""Sorts after every endpoint id (hex), so the list reads endpoints with `RowKey lt '~'`."""
LOST_RACE = (404, 409, 412)
"""A transaction that lost to a concurrent one: the counter moved, or the row came or went."""


def _entity(webhook: WebhookRecord) -> dict[str, Any]:
    return {
        "PartitionKey": encode_key(webhook.tenant_id),
        "RowKey": webhook.id,
        "Data": webhook.model_dump_json(),
    }


class WebhookTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, list[WebhookRecord]]] = {}
        self._lock = threading.Lock()

    def list(self, tenant_id: str, *, cached: bool = False) -> list[WebhookRecord]:
        if cached:
            with self._lock:
                hit = self._cache.get(tenant_id)
            if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
                return hit[1]
        entities = self._store.table(TABLE).query_entities(
            "PartitionKey eq @pk and RowKey lt @counter",
            parameters={"pk": encode_key(tenant_id), "counter": COUNTER_ROW},
        )
        found = sorted(
            (parse_row(WebhookRecord, e, TABLE) for e in entities), key=lambda w: w.created_at
        )
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), found)
        return found

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord | None:
        found = self.get_versioned(tenant_id, webhook_id)
        return None if found is None else found.value

    def get_versioned(self, tenant_id: str, webhook_id: str) -> Versioned[WebhookRecord] | None:
        try:
            entity = self._store.table(TABLE).get_entity(encode_key(tenant_id), webhook_id)
        except ResourceNotFoundError:
            return None
        return Versioned(parse_row(WebhookRecord, entity, TABLE), str(entity.metadata["etag"]))

    def put(self, webhook: WebhookRecord) -> None:
        self._store.table(TABLE).upsert_entity(_entity(webhook), mode=UpdateMode.REPLACE)
        self._forget(webhook.tenant_id)

    def replace_if(self, webhook: WebhookRecord, version: str) -> bool:
        """Write the endpoint only if it is still the version read; False if it changed."""
        try:
            self._store.table(TABLE).update_entity(
                _entity(webhook),
                mode=UpdateMode.REPLACE,
                etag=version,
                match_condition=MatchConditions.IfNotModified,
            )
        except HttpResponseError as error:
            if error.status_code in LOST_RACE:
                return False
            raise
        self._forget(webhook.tenant_id)
        return True

    def _counter(self, tenant_id: str) -> tuple[int, str | None]:
        """The endpoint count and the counter's ETag (None: no counter row yet, so the
        endpoints are counted, as rows written before the counter existed)."""
        try:
            entity = self._store.table(TABLE).get_entity(encode_key(tenant_id), COUNTER_ROW)
        except ResourceNotFoundError:
            return len(self.list(tenant_id)), None
        return int(entity["Count"]), str(entity.metadata["etag"])

    def _counted(self, tenant_id: str, count: int, etag: str | None) -> tuple[Any, ...]:
        entity = {"PartitionKey": encode_key(tenant_id), "RowKey": COUNTER_ROW, "Count": count}
        if etag is None:
            return ("create", entity)
        options = {
            "mode": UpdateMode.REPLACE,
            "etag": etag,
            "match_condition": MatchConditions.IfNotModified,
        }
        return ("update", entity, options)

    def _submit(self, tenant_id: str, operations: Sequence[tuple[Any, ...]]) -> None:
        """Raises ConcurrencyConflict when a concurrent change won: the use case reads
        again under the message bus's retry policy."""
        try:
            self._store.table(TABLE).submit_transaction(operations)
        except TableTransactionError as error:
            if error.status_code in LOST_RACE:
                raise ConcurrencyConflict(f"{TABLE}/{tenant_id}") from error
            raise
        self._forget(tenant_id)

    def add(self, webhook: WebhookRecord, limit: int) -> bool:
        """Store a new endpoint unless the organization has `limit` already (False)."""
        count, etag = self._counter(webhook.tenant_id)
        if count >= limit:
            return False
        counted = self._counted(webhook.tenant_id, count + 1, etag)
        self._submit(webhook.tenant_id, [("create", _entity(webhook)), counted])
        return True

    def delete(self, tenant_id: str, webhook_id: str) -> bool:
        """False when there was no such endpoint."""
        if self.get(tenant_id, webhook_id) is None:
            return False
        count, etag = self._counter(tenant_id)
        gone = ("delete", {"PartitionKey": encode_key(tenant_id), "RowKey": webhook_id})
        self._submit(tenant_id, [gone, self._counted(tenant_id, max(count - 1, 0), etag)])
        return True

    def _forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)
