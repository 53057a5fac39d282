"""Clients for the one Storage account, made on first use; tables are created once
per process, idempotently, so the app works on a fresh account. Every request passes the
filter check; `query_page` reads one page of a query as plain JSON, for the activity
log's pages, where the SDK's entity conversion cost more than the rest of the read."""

import logging
import re
import threading
from collections.abc import Callable, Mapping
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


_PARAMETER = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


def odata_filter(query_filter: str, parameters: dict[str, str]) -> str:
    """The filter with each `@name` replaced by its value as an OData string literal
    (quoted, quotes doubled), as the SDK's `parameters` do; only strings are needed."""

    def literal(match: re.Match[str]) -> str:
        value = parameters[match.group(1)]
        if not isinstance(value, str):
            raise TypeError(f"filter parameter {match.group(1)} is not a string")
        return "'" + value.replace("'", "''") + "'"

    return _PARAMETER.sub(literal, query_filter)


def query_page(
    table: "TableClient",
    query_filter: str,
    *,
    parameters: dict[str, str],
    select: list[str],
    top: int,
    continuation: Mapping[str, str | None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str | None] | None]:
    """One page of a query as plain JSON objects, and the table's next keys. It goes
    through the table client's own pipeline (credential, retries, the request hook
    and the filter check all apply) but leaves out the SDK's entity conversion, which
    for a page of 100 rows cost more than all of the read's own parsing (about 2 ms:
    the rows walked by a generic deserializer, then converted again). So it suits
    string properties named in `select`, which come back as they are stored."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        map_error,
    )
    from azure.core.rest import HttpRequest

    params: dict[str, Any] = {
        "$filter": odata_filter(query_filter, parameters),
        "$select": ",".join(select),
        "$top": top,
    }
    for key, name in (("PartitionKey", "NextPartitionKey"), ("RowKey", "NextRowKey")):
        value = (continuation or {}).get(key)
        if value is not None:
            params[name] = value
    request = HttpRequest(
        "GET",
        f"/{table.table_name}()",
        params=params,
        headers={
            "x-ms-version": table.api_version,
            "DataServiceVersion": "3.0",
            # No metadata: the rows' etags and types are not read here.
            "Accept": "application/json;odata=nometadata",
        },
    )
    # The generated client's `send_request` (the SDK's own transactions use it);
    # tests on Azurite compare these pages with the SDK's query, so an SDK that
    # changes it fails there first.
    response = table._client.send_request(request)
    if response.status_code != 200:
        map_error(
            response.status_code,
            response,
            {401: ClientAuthenticationError, 404: ResourceNotFoundError},
        )
        raise HttpResponseError(response=response)
    rows: list[dict[str, Any]] = response.json().get("value", [])
    following = {
        "PartitionKey": response.headers.get("x-ms-continuation-NextPartitionKey"),
        "RowKey": response.headers.get("x-ms-continuation-NextRowKey"),
    }
    return rows, following if any(following.values()) else None
