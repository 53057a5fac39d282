"""Table `webhooks`: one partition per organization, one row per endpoint. Lists are
cached in the process for a short while, so writing an activity entry for an
organization without webhooks costs no storage request."""

import threading
import time
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_key
from shared.adapters.rows import parse_row
from shared.adapters.tables import TableStore
from shared.domain.webhooks import WebhookRecord

TABLE = "webhooks"
CACHE_SECONDS = 30.0


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
            "PartitionKey eq @pk", parameters={"pk": encode_key(tenant_id)}
        )
        found = sorted(
            (parse_row(WebhookRecord, e, TABLE) for e in entities), key=lambda w: w.created_at
        )
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), found)
        return found

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord | None:
        try:
            entity = self._store.table(TABLE).get_entity(encode_key(tenant_id), webhook_id)
        except ResourceNotFoundError:
            return None
        return parse_row(WebhookRecord, entity, TABLE)

    def put(self, webhook: WebhookRecord) -> None:
        entity: dict[str, Any] = {
            "PartitionKey": encode_key(webhook.tenant_id),
            "RowKey": webhook.id,
            "Data": webhook.model_dump_json(),
        }
        self._store.table(TABLE).upsert_entity(entity, mode=UpdateMode.REPLACE)
        self._forget(webhook.tenant_id)

    def delete(self, tenant_id: str, webhook_id: str) -> bool:
        """False when there was no such endpoint."""
        if self.get(tenant_id, webhook_id) is None:
            return False
        self._store.table(TABLE).delete_entity(encode_key(tenant_id), webhook_id)
        self._forget(tenant_id)
        return True

    def _forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)
