"""Admins register webhook endpoints for their organization's activity; deliveries
are queue-driven, signed the Standard Webhooks way, retried with backoff for about a
day, and a slow or failing receiver never slows linking or credit."""

import json
import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from shared import errors
from shared.adapters import webhook_http
from shared.adapters.activity import write_order
from shared.adapters.ports import Delivery, Stores
from shared.domain.activity import ActivityRecord
from shared.domain.webhooks import (
    MAX_PER_ORGANIZATION,
    BadEndpoint,
    Endpoint,
    IPAddress,
    WebhookRecord,
    is_issued_id,
    new_id,
    new_secret,
    parse_endpoint,
    refused_address,
    signature,
)
from shared.errors import invalid_request
from shared.services.caller import Caller
from shared.services.commands import CreateWebhook
from shared.services.dependencies import Dependencies
from shared.wire import WebhookCreated, WebhookList, webhook_of

logger = logging.getLogger("skills_link.webhooks")
TIMEOUT_SECONDS = 10.0
"""For the whole delivery: connect, TLS, send and the answer's headers."""
Post = Callable[[str, bytes, dict[str, str], IPAddress | None], bool]


class RefusedAddress(Exception):
    """The host resolves to an address a webhook may never reach."""


def checked_address(endpoint: Endpoint, *, check: bool) -> IPAddress:
    """Resolve once; with the guard on, every address must be one a webhook may reach
    (an attacker's resolver may mix answers). The delivery connects to the address
    returned here, so nothing resolves the name again between check and connect."""
    addresses = webhook_http.resolve(endpoint)
    if check and any(refused_address(a) for a in addresses):
        raise RefusedAddress(endpoint.host)
    return addresses[0]


def record_activity(
    stores: Stores, entries: Sequence[ActivityRecord], *, last: str | None = None
) -> None:
    """Hand each entry to the organization's endpoints that subscribe to its type (a
    queue message each: a slow receiver never slows the change), then write the
    entries, the one named `last` written last: an entry that exists was delivered
    too (at least once: a retry may deliver it again, with the same id). Endpoints
    are read from a short cache: an organization without webhooks pays no request
    for them."""
    if not entries:
        return
    for entry in entries:
        for webhook in stores.webhooks.list(entry.tenant_id, cached=True):
            if webhook.wants(entry.type):
                stores.queue.send_delivery(
                    Delivery(entry.tenant_id, webhook.id, entry.model_dump(mode="json"))
                )
    stores.activity.put(write_order(entries, last))


def check_url(deps: Dependencies, url: str) -> str:
    """The url as stored, or the contract's 400 naming what is wrong with it."""
    url = url.strip()
    try:
        endpoint = parse_endpoint(url, allow_local_http=deps.allow_local_webhooks)
    except BadEndpoint as error:
        raise invalid_request("url", str(error)) from error
    if deps.check_webhook_addresses:
        try:
            checked_address(endpoint, check=True)
        except webhook_http.Unresolvable as error:
            raise invalid_request("url", "The url's host does not resolve.") from error
        except RefusedAddress as error:
            raise invalid_request(
                "url", "The url must not point at a private or reserved address."
            ) from error
    return url


def create(deps: Dependencies, caller: Caller, request: CreateWebhook) -> WebhookCreated:
    caller.require_admin()
    url = check_url(deps, request.url)
    webhook = WebhookRecord(
        id=new_id(),
        tenant_id=caller.tenant_id,
        url=url,
        events=sorted(set(request.events)),
        description=request.description.strip(),
        secret=new_secret(),
        created_at=deps.clock.now(),
    )
    added = deps.run(lambda _uow, _: deps.stores.webhooks.add(webhook, MAX_PER_ORGANIZATION))
    if not added:
        raise errors.TOO_MANY_WEBHOOKS()
    return WebhookCreated(**webhook_of(webhook).model_dump(), secret=webhook.secret)


def listed(deps: Dependencies, caller: Caller) -> WebhookList:
    caller.require_admin()
    return WebhookList(
        webhooks=[webhook_of(w) for w in deps.stores.webhooks.list(caller.tenant_id)]
    )


def _issued(webhook_id: str | None) -> str:
    """An id from the route, if the service could have issued it: anything else names
    no endpoint, and never reaches a table key."""
    if webhook_id is None or not is_issued_id(webhook_id):
        raise errors.WEBHOOK_NOT_FOUND()
    return webhook_id


def delete(deps: Dependencies, caller: Caller, webhook_id: str | None) -> None:
    caller.require_admin()
    issued = _issued(webhook_id)
    if not deps.run(lambda _uow, _: deps.stores.webhooks.delete(caller.tenant_id, issued)):
        raise errors.WEBHOOK_NOT_FOUND()


def ping(deps: Dependencies, caller: Caller, webhook_id: str | None) -> None:
    """One test delivery, at most once a minute per endpoint (a receiver that fails it
    gets no retries), so the call cannot be used to flood somebody's server."""
    caller.require_admin()
    webhook_id = _issued(webhook_id)
    now = deps.clock.now()
    found = deps.stores.webhooks.get_versioned(caller.tenant_id, webhook_id)
    if found is None:
        raise errors.WEBHOOK_NOT_FOUND()
    wait = found.value.ping_wait(now)
    pinged = found.value.model_copy(update={"last_ping_at": now})
    if wait is not None or not deps.stores.webhooks.replace_if(pinged, found.etag):
        seconds = max(1, math.ceil(wait.total_seconds())) if wait is not None else 60
        raise errors.RATE_LIMITED(
            "An endpoint can be tested once a minute.", headers={"Retry-After": str(seconds)}
        )
    entry: dict[str, object] = {
        "id": f"ping_{uuid.uuid4().hex}",
        "type": "ping",
        "at": now.isoformat(),
    }
    deps.stores.queue.send_delivery(Delivery(caller.tenant_id, webhook_id, entry))


def parse_delivery(text: str) -> Delivery:
    from shared.services.poison import PoisonMessage

    try:
        data: Any = json.loads(text)
        return Delivery(
            tenant_id=str(data["tenant_id"]),
            webhook_id=str(data["webhook_id"]),
            entry=dict(data["entry"]),
            attempt=int(data.get("attempt", 0)),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise PoisonMessage(None, f"not a webhook delivery: {type(error).__name__}") from error


def post_json(
    url: str, body: bytes, headers: dict[str, str], address: IPAddress | None = None
) -> bool:
    """One POST to `address` (resolved here when not given), 10 s in all, never
    following a redirect, reading at most 4 KiB of the answer; True for a 2xx."""
    try:
        endpoint = parse_endpoint(url, allow_local_http=True)
        target = address or webhook_http.resolve(endpoint)[0]
    except (BadEndpoint, webhook_http.Unresolvable) as error:
        logger.warning("Webhook delivery failed: %s", type(error).__name__)
        return False
    return webhook_http.post(endpoint, target, body, headers, TIMEOUT_SECONDS)


def deliver(deps: Dependencies, delivery: Delivery, post: Post = post_json) -> str:
    """What happened: delivered, retrying (sent again with the next delay), gave up
    (recorded on the endpoint, which five days of failures disable) or dropped."""
    webhook = deps.stores.webhooks.get(delivery.tenant_id, delivery.webhook_id)
    if webhook is None or webhook.disabled:
        return "dropped"
    is_ping = delivery.entry.get("type") == "ping"
    try:
        endpoint = parse_endpoint(webhook.url, allow_local_http=deps.allow_local_webhooks)
        address: IPAddress | None = checked_address(endpoint, check=deps.check_webhook_addresses)
    except (BadEndpoint, RefusedAddress):
        logger.warning("Webhook %s points where no delivery may go; dropped", webhook.id)
        return "dropped"
    except webhook_http.Unresolvable:
        address = None
    # With the guard on, only a checked address is ever called; without it (local
    # development) the post resolves the name itself.
    reachable = address is not None or not deps.check_webhook_addresses
    body = json.dumps(delivery.entry, separators=(",", ":")).encode()
    timestamp = int(deps.clock.now().timestamp())
    message_id = str(delivery.entry["id"])
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(webhook.secret, message_id, timestamp, body),
    }
    if reachable and post(webhook.url, body, headers, address):
        if webhook.consecutive_failures and not is_ping:
            deps.stores.webhooks.put(webhook.succeeded())
        return "delivered"
    if is_ping:
        return "gave up"
    if delivery.attempt < len(deps.webhook_retry_delays):
        delay = deps.webhook_retry_delays[delivery.attempt]
        deps.stores.queue.send_delivery(replace(delivery, attempt=delivery.attempt + 1), delay)
        return "retrying"
    deps.stores.webhooks.put(webhook.failed(deps.clock.now()))
    logger.warning("Webhook %s gave up on entry %s", webhook.id, message_id)
    return "gave up"
