"""405 with `Allow` for a method a known API path does not take (RFC 9110 15.5.6).
The Functions host answers 404 there (its routing finds no function: Azure/azure-
functions-host#10098), so a catch-all function declares the other methods and
answers from the document's own operations."""

import re
from functools import lru_cache

from shared.entrypoints.openapi import OPERATIONS

UNDOCUMENTED = {"openapi.json": ("GET",), "docs": ("GET",), "docs/{asset}": ("GET",)}
"""The document and its viewer: served, but not operations of the API."""


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    by_template: dict[str, set[str]] = {}
    for op in OPERATIONS:
        by_template.setdefault(op.path.strip("/"), set()).add(op.method.upper())
    for template, methods in UNDOCUMENTED.items():
        by_template.setdefault(template, set()).update(methods)
    # A literal path first: `me/links/nonce` is not a `{program}` of `me/links/{program}`.
    ordered = sorted(by_template.items(), key=lambda item: item[0].count("{"))
    return [
        (re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))), tuple(sorted(m)))
        for template, m in ordered
    ]


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods the API takes at this path (below /api), none for an unknown path;
    HEAD goes with GET, as the host's GET routes answer it."""
    for pattern, methods in _templates():
        if pattern.fullmatch(path.strip("/")):
            return methods
    return ()
