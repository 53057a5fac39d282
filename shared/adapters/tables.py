"""Clients for the one Storage account, made on first use; tables are created once
per process, idempotently, so the app works on a fresh account."""

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.settings import Settings, StorageMisconfigured, StorageTarget

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.data.tables import TableClient, TableServiceClient

logger = logging.getLogger("skills_link.storage")

MAX_FILTER_COMPARISONS = 15
"""Table Storage refuses a filter with more (Azurite does not, so the code checks)."""
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_COMPARISON = re.compile(r"\b(?:eq|ne|gt|ge|lt|le)\b", re.IGNORECASE)


class FilterTooLarge(ValueError):
    """A query this code built holds more comparisons than Table Storage allows."""


def comparisons(query_filter: str) -> int:
    """The comparison operators in an OData filter, string literals left out."""
    return len(_COMPARISON.findall(_QUOTED.sub("''", query_filter)))


def check_filter(request: Any) -> None:
    """Every table request passes here before it is sent: Azure's limit, enforced
    where Azurite would let a filter through that Azure refuses."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(str(request.http_request.url)).query)
    for query_filter in query.get("$filter", []):
        if comparisons(query_filter) > MAX_FILTER_COMPARISONS:
            raise FilterTooLarge(
                f"a filter holds {comparisons(query_filter)} comparisons; "
                f"Table Storage allows {MAX_FILTER_COMPARISONS}"
            )


def storage_target(settings: Settings) -> StorageTarget:
    """The settings' storage target, or the contract's 503 naming what is missing."""
    try:
        return settings.storage_target()
    except StorageMisconfigured as error:
        logger.error("Storage is not configured: %s", error)
        raise errors.SERVICE_MISCONFIGURED(str(error)) from error


def make_credential(target: StorageTarget) -> "TokenCredential":
    """One credential for tables and queues: the managed identity the settings name
    (a user-assigned one by its client id), else DefaultAzureCredential."""
    if target.managed_identity:
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=target.client_id)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


@dataclass(frozen=True)
class StorageRetry:
    """The storage clients' own retries, explicit: bounded exponential backoff (with
    jitter for queues; azure-core honours storage's Retry-After), a few seconds in all,
    well inside a function's budget. What still fails is the contract's 503 (HTTP) or
    a message put back on its queue (queue work)."""

    total: int = 3
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    queue_initial_backoff_seconds: int = 1

    def table_kwargs(self) -> dict[str, Any]:
        return {
            "retry_total": self.total,
            "retry_backoff_factor": self.backoff_seconds,
            "retry_backoff_max": self.backoff_max_seconds,
        }

    def queue_kwargs(self) -> dict[str, Any]:
        from azure.storage.queue import ExponentialRetry

        return {
            "retry_policy": ExponentialRetry(
                initial_backoff=self.queue_initial_backoff_seconds,
                increment_base=2,
                retry_total=self.total,
                random_jitter_range=1,
            )
        }


class TableStore:
    def __init__(
        self,
        settings: Settings,
        request_hook: Callable[[Any], None] | None = None,
        credential: "TokenCredential | None" = None,
        retry: StorageRetry | None = None,
        transport: Any = None,
    ) -> None:
        """request_hook sees every HTTP request the SDK sends, retries included (through
        azure-core's CustomHookPolicy: azure-data-tables ignores per_call_policies)."""
        self._settings = settings
        self._request_hook = request_hook
        self._credential = credential
        self._retry = retry or StorageRetry()
        self._transport = transport
        self._service: TableServiceClient | None = None
        self._clients: dict[str, TableClient] = {}
        self._lock = threading.Lock()

    def _service_client(self) -> "TableServiceClient":
        from azure.data.tables import TableServiceClient

        if self._service is None:
            target = storage_target(self._settings)
            extra: dict[str, Any] = self._retry.table_kwargs()
            hook = self._request_hook

            def checked(request: Any) -> None:
                check_filter(request)
                if hook is not None:
                    hook(request)

            extra["raw_request_hook"] = checked
            if self._transport is not None:
                extra["transport"] = self._transport
            if target.connection_string is not None:
                self._service = TableServiceClient.from_connection_string(
                    target.connection_string, **extra
                )
            else:
                assert target.table_endpoint is not None
                self._service = TableServiceClient(
                    endpoint=target.table_endpoint,
                    credential=self._credential or make_credential(target),
                    **extra,
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
