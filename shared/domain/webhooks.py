"""Webhook endpoints an organization registers, and the Standard Webhooks signature
of what is delivered to them."""

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict

from shared.domain.activity import ActivityType
from shared.domain.types import Instant

MAX_PER_ORGANIZATION = 10
DISABLE_AFTER = timedelta(days=5)
PING_INTERVAL = timedelta(minutes=1)
MAX_URL_LENGTH = 2048
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
"""What `new_id` issues; anything else names no endpoint and never reaches a table key."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
"""About a day of retries with exponential backoff, then the delivery gives up."""


def new_id() -> str:
    return secrets.token_hex(16)


def is_issued_id(webhook_id: str | None) -> bool:
    return webhook_id is not None and ID_PATTERN.fullmatch(webhook_id) is not None


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

AZURE_PLATFORM = ipaddress.ip_network("168.63.129.16/32")
"""Azure's virtual public address (DNS, health probes, the wire server): Python counts
it as global, yet it answers only from inside Azure."""
REFUSED_V6 = tuple(
    ipaddress.ip_network(n)
    for n in (
        "64:ff9b::/96",  # NAT64: reaches any IPv4 address, private ones included
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4: embeds an IPv4 address
        "2001::/32",  # Teredo: embeds an IPv4 address
        "ff00::/8",  # multicast
    )
)


def refused_address(address: IPAddress) -> bool:
    """Addresses a webhook may never reach: anything not global, multicast, reserved,
    NAT64, 6to4, Teredo and Azure's platform address; IPv4-mapped forms as their IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return refused_address(address.ipv4_mapped)
        if any(address in network for network in REFUSED_V6):
            return True
    elif address in AZURE_PLATFORM:
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


class BadEndpoint(ValueError):
    """A webhook url the service will not call; the message says why, for the 400."""


@dataclass(frozen=True)
class Endpoint:
    """A webhook url taken apart the one way both the check and the delivery read it."""

    scheme: str
    host: str
    """ASCII: an IDNA-encoded DNS name, or an IP address without brackets."""
    port: int
    target: str
    """Path and query as sent on the request line."""
    address: IPAddress | None
    """Set when the host is an IP literal."""

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~?"


def _ascii_host(host: str) -> str:
    import idna

    try:
        encoded = idna.encode(host, uts46=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise BadEndpoint("The url's host is not a valid DNS name.") from error
    labels = encoded.split(".")
    if len(encoded) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise BadEndpoint("The url's host is not a valid DNS name.")
    return encoded


def parse_endpoint(url: str, *, allow_local_http: bool = False) -> Endpoint:
    """`https`, no user info, no backslash, no whitespace or control character, at
    most 2,048 characters, a host that is a DNS name or a global address (plain
    `http` to this machine only where local development allows it)."""
    if len(url) > MAX_URL_LENGTH:
        raise BadEndpoint(f"url holds at most {MAX_URL_LENGTH} characters.")
    if "\\" in url or any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise BadEndpoint("url must not hold a backslash, a space or a control character.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadEndpoint("url is not a valid URL.") from error
    if "@" in parts.netloc:
        raise BadEndpoint("url must not carry a user name or password.")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise BadEndpoint("url must be an absolute https URL.")
    local = allow_local_http and raw_host.lower() in LOCAL_HOSTS
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise BadEndpoint("url must use https.")
    address: IPAddress | None
    try:
        address = ipaddress.ip_address(raw_host)
        host = str(address)
    except ValueError:
        address = None
        host = "localhost" if local else _ascii_host(raw_host)
    if address is not None and refused_address(address) and not local:
        raise BadEndpoint("url must not point at a private or reserved address.")
    path = quote(parts.path or "/", safe=_TARGET_SAFE)
    query = quote(parts.query, safe=_TARGET_SAFE)
    return Endpoint(
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        target=f"{path}?{query}" if query else path,
        address=address,
    )


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
    last_ping_at: Instant | None = None

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

    def ping_wait(self, now: datetime) -> timedelta | None:
        """How long until the next ping is allowed; None: now."""
        if self.last_ping_at is None or now - self.last_ping_at >= PING_INTERVAL:
            return None
        return self.last_ping_at + PING_INTERVAL - now

    def succeeded(self) -> "WebhookRecord":
        return self.model_copy(update={"consecutive_failures": 0, "first_failure_at": None})
