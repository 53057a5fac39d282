import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

from shared.storage.errors import ConcurrencyConflict, InvalidContinuation


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
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise InvalidContinuation(token) from error
    if (
        not isinstance(decoded, dict)
        or not set(decoded) <= expected_keys
        or not all(isinstance(v, str) for v in decoded.values())
    ):
        raise InvalidContinuation(token)
    return decoded
