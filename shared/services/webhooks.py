"""Admins register webhook endpoints for their organization's activity; deliveries
are queue-driven, signed the Standard Webhooks way, retried with backoff for about a
day, and a slow or failing receiver never slows linking or credit."""

import ipaddress
import json
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from shared import errors
from shared.adapters.ports import Delivery
from shared.domain.webhooks import MAX_PER_ORGANIZATION, WebhookRecord, new_secret, signature
from shared.entrypoints.principal import Caller
from shared.entrypoints.requests import parse_body
from shared.errors import invalid_request
from shared.services.context import Context
from shared.wire import WebhookCreated, WebhookList, WebhookRequest, webhook_of

logger = logging.getLogger("skills_link.webhooks")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
TIMEOUT_SECONDS = 10
Post = Callable[[str, bytes, dict[str, str]], bool]


def _refuse_private_addresses(host: str) -> None:
    """No server-side request forgery: every address the host resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as error:
        raise invalid_request("url", "The url's host does not resolve.") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise invalid_request("url", "The url must not point at a private address.")


def check_url(ctx: Context, url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host or len(url) > 2048:
        raise invalid_request("url", "url must be an absolute https URL.")
    local = ctx.allow_local_webhooks and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise invalid_request("url", "url must use https.")
    if ctx.check_webhook_addresses:
        _refuse_private_addresses(host)
    return url.strip()


def create(ctx: Context, caller: Caller, body: bytes | None) -> WebhookCreated:
    caller.require_admin()
    request = parse_body(WebhookRequest, body)
    if not request.events:
        raise invalid_request("events", "events must name at least one activity type.")
    if len(request.description) > 256:
        raise invalid_request("description", "description holds at most 256 characters.")
    url = check_url(ctx, request.url)
    if len(ctx.stores.webhooks.list(caller.tenant_id)) >= MAX_PER_ORGANIZATION:
        raise errors.TOO_MANY_WEBHOOKS()
    webhook = WebhookRecord(
        id=uuid.uuid4().hex,
        tenant_id=caller.tenant_id,
        url=url,
        events=sorted(set(request.events)),
        description=request.description.strip(),
        secret=new_secret(),
        created_at=ctx.clock.now(),
    )
    ctx.stores.webhooks.put(webhook)
    return WebhookCreated(**webhook_of(webhook).model_dump(), secret=webhook.secret)


def listed(ctx: Context, caller: Caller) -> WebhookList:
    caller.require_admin()
    return WebhookList(webhooks=[webhook_of(w) for w in ctx.stores.webhooks.list(caller.tenant_id)])


def delete(ctx: Context, caller: Caller, webhook_id: str | None) -> None:
    caller.require_admin()
    if not webhook_id or not ctx.stores.webhooks.delete(caller.tenant_id, webhook_id):
        raise errors.WEBHOOK_NOT_FOUND()


def ping(ctx: Context, caller: Caller, webhook_id: str | None) -> None:
    caller.require_admin()
    webhook = ctx.stores.webhooks.get(caller.tenant_id, webhook_id or "")
    if webhook is None:
        raise errors.WEBHOOK_NOT_FOUND()
    entry: dict[str, object] = {
        "id": f"ping_{uuid.uuid4().hex}",
        "type": "ping",
        "at": ctx.clock.now().isoformat(),
    }
    ctx.stores.queue.send_delivery(Delivery(caller.tenant_id, webhook.id, entry))


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


def post_json(url: str, body: bytes, headers: dict[str, str]) -> bool:
    """One POST, 10 s at most, never following a redirect; True for a 2xx answer."""
    import requests

    try:
        answer = requests.post(
            url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as error:
        logger.warning("Webhook delivery failed: %s", type(error).__name__)
        return False
    return 200 <= answer.status_code < 300


def deliver(ctx: Context, delivery: Delivery, post: Post = post_json) -> str:
    """What happened: delivered, retrying (sent again with the next delay), gave up
    (recorded on the endpoint, which five days of failures disable) or dropped."""
    webhook = ctx.stores.webhooks.get(delivery.tenant_id, delivery.webhook_id)
    if webhook is None or webhook.disabled:
        return "dropped"
    if ctx.check_webhook_addresses:
        try:
            _refuse_private_addresses((urlsplit(webhook.url).hostname or "").lower())
        except errors.ServiceError:
            return "dropped"
    body = json.dumps(delivery.entry, separators=(",", ":")).encode()
    timestamp = int(ctx.clock.now().timestamp())
    message_id = str(delivery.entry["id"])
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(webhook.secret, message_id, timestamp, body),
    }
    if post(webhook.url, body, headers):
        if webhook.consecutive_failures:
            ctx.stores.webhooks.put(webhook.succeeded())
        return "delivered"
    if delivery.attempt < len(ctx.webhook_retry_delays):
        delay = ctx.webhook_retry_delays[delivery.attempt]
        ctx.stores.queue.send_delivery(replace(delivery, attempt=delivery.attempt + 1), delay)
        return "retrying"
    ctx.stores.webhooks.put(webhook.failed(ctx.clock.now()))
    logger.warning("Webhook %s gave up on entry %s", webhook.id, message_id)
    return "gave up"
