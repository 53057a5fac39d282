"""Counts storage requests exactly: a hook that azure-core's CustomHookPolicy calls
for every HTTP request an SDK client sends (retries included)."""

import threading
from collections import Counter
from typing import Any


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_method: Counter[str] = Counter()

    def __call__(self, request: Any) -> None:
        with self._lock:
            self.by_method[request.http_request.method] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_method.values())

    def reset(self) -> None:
        with self._lock:
            self.by_method.clear()
