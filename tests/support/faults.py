"""Storage faults injected in the SDK's own pipeline: a transport that wraps the
real one (requests, to Azurite) and makes chosen requests fail the ways production
storage fails. The storage behind it is real; only the chosen requests are not."""

import threading
from collections.abc import Callable
from typing import Any, Literal

import requests
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import HttpTransport, RequestsTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse

FaultKind = Literal["dropped", "timeout", "server_busy"]
FAULT_KINDS: tuple[FaultKind, ...] = ("dropped", "timeout", "server_busy")


def server_busy(request: Any, retry_after: int = 1) -> RequestsTransportResponse:
    """What storage answers when it throttles: 503 ServerBusy with Retry-After."""
    raw = requests.Response()
    raw.status_code = 503
    raw.reason = "Server Busy"
    raw.headers.update(
        {
            "Retry-After": str(retry_after),
            "x-ms-error-code": "ServerBusy",
            "Content-Type": "application/json",
        }
    )
    raw._content = (
        b'{"odata.error": {"code": "ServerBusy", "message": {"value": "The server is busy."}}}'
    )
    raw.url = request.url
    return RequestsTransportResponse(request, raw)


class FaultyTransport(HttpTransport):  # type: ignore[type-arg]
    """`should_fail(n, request)` decides, for the n-th request (1-based, every try of
    every client counted), whether it fails, and how."""

    def __init__(self, should_fail: Callable[[int, Any], FaultKind | None] | None = None) -> None:
        self.inner = RequestsTransport()
        self.should_fail = should_fail or (lambda n, request: None)
        self.sent = 0
        self.armed = True
        self.failed: list[tuple[int, FaultKind, str, str]] = []
        self._lock = threading.Lock()

    def send(self, request: Any, **kwargs: Any) -> Any:
        if not self.armed:
            return self.inner.send(request, **kwargs)
        with self._lock:
            self.sent += 1
            number = self.sent
        kind = self.should_fail(number, request)
        if kind is not None:
            with self._lock:
                self.failed.append((number, kind, request.method, request.url))
            if kind == "dropped":
                raise ServiceRequestError("connection dropped (injected)")
            if kind == "timeout":
                raise ServiceResponseTimeoutError("read timed out (injected)")
            return server_busy(request)
        return self.inner.send(request, **kwargs)

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        """Shared by every client of a runtime: closing one must not close it for all."""

    def __enter__(self) -> "FaultyTransport":
        return self

    def __exit__(self, *args: object) -> None:
        pass


def kth_request(k: int, kind: FaultKind) -> Callable[[int, Any], FaultKind | None]:
    return lambda number, request: kind if number == k else None


class Window:
    """Fail every request while `on`; count them."""

    def __init__(self, kind: FaultKind, predicate: Callable[[Any], bool] = lambda r: True) -> None:
        self.kind = kind
        self.on = False
        self.predicate = predicate
        self.refused = 0

    def __call__(self, number: int, request: Any) -> FaultKind | None:
        if self.on and self.predicate(request):
            self.refused += 1
            return self.kind
        return None
