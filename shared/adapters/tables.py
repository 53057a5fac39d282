"""Clients for the one Storage account, made on first use; tables are created once
per process, idempotently, so the app works on a fresh account."""

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.settings import DEVELOPMENT_STORAGE, Settings

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient


class TableStore:
    def __init__(
        self, settings: Settings, request_hook: Callable[[Any], None] | None = None
    ) -> None:
        """request_hook sees every HTTP request the SDK sends, retries included (through
        azure-core's CustomHookPolicy: azure-data-tables ignores per_call_policies)."""
        self._settings = settings
        self._request_hook = request_hook
        self._service: TableServiceClient | None = None
        self._clients: dict[str, TableClient] = {}
        self._lock = threading.Lock()

    def _service_client(self) -> "TableServiceClient":
        from azure.data.tables import TableServiceClient

        if self._service is None:
            extra: dict[str, Any] = {}
            if self._request_hook is not None:
                extra["raw_request_hook"] = self._request_hook
            account = self._settings.storage_account_name
            if account and self._settings.storage_connection == DEVELOPMENT_STORAGE:
                from azure.identity import DefaultAzureCredential

                self._service = TableServiceClient(
                    endpoint=f"https://{account}.table.core.windows.net",
                    credential=DefaultAzureCredential(),
                    **extra,
                )
            else:
                self._service = TableServiceClient.from_connection_string(
                    self._settings.storage_connection, **extra
                )
        return self._service

    def table(self, name: str) -> "TableClient":
        client = self._clients.get(name)
        if client is not None:
            return client
        with self._lock:
            if name not in self._clients:
                service = self._service_client()
                service.create_table_if_not_exists(name)
                self._clients[name] = service.get_table_client(name)
            return self._clients[name]
