"""Webhook endpoints an organization registers, and the Standard Webhooks signature
of what is delivered to them."""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from shared.domain.activity import ActivityType
from shared.domain.types import Instant

MAX_PER_ORGANIZATION = 10
DISABLE_AFTER = timedelta(days=5)
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
"""About a day of retries with exponential backoff, then the delivery gives up."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the secret's key bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    url: str
    events: list[ActivityType]
    description: str
    secret: str
    created_at: Instant
    disabled: bool = False
    consecutive_failures: int = 0
    first_failure_at: Instant | None = None
    last_failure_at: Instant | None = None

    def wants(self, kind: str) -> bool:
        return not self.disabled and kind in self.events

    def failed(self, now: datetime) -> "WebhookRecord":
        """A delivery that used up its retries; five days of failures disable it."""
        first = self.first_failure_at or now
        return self.model_copy(
            update={
                "consecutive_failures": self.consecutive_failures + 1,
                "first_failure_at": first,
                "last_failure_at": now,
                "disabled": now - first >= DISABLE_AFTER,
            }
        )

    def succeeded(self) -> "WebhookRecord":
        return self.model_copy(update={"consecutive_failures": 0, "first_failure_at": None})
