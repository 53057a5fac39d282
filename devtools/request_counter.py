"""Counts storage requests exactly: an azure-core per-call policy for the SDK clients."""

import threading
from collections import Counter

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy


class RequestCounter(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_method: Counter[str] = Counter()

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        with self._lock:
            self.by_method[request.http_request.method] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_method.values())

    def reset(self) -> None:
        with self._lock:
            self.by_method.clear()
