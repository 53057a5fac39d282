"""Signed webhooks: admins register endpoints, and a real receiver on 127.0.0.1 gets
each activity entry its endpoint subscribes to, signed the Standard Webhooks way
(checked here by an implementation written independently of the service's), again
with the same id after a failure, and nothing it did not subscribe to."""

import base64
import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared import bootstrap
from shared.queue_names import WEBHOOK_DELIVERIES
from tests.functions.test_credit_rules import DUE, EVENTS, event, tick
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)
DELIVERIES = WEBHOOK_DELIVERIES


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = 200
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    status = 500
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, from its specification: HMAC-SHA256 with the base64 key after
    `whsec_`, over `{webhook-id}.{webhook-timestamp}.{body}`, `v1,`-prefixed base64."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split(" "))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()


@pytest.fixture(autouse=True)
def quick_retries(host: QueueHost, azure_runtime: bootstrap.Runtime) -> None:
    """Retries without waiting (the real delays are 5 s to 10 h)."""
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison", DELIVERIES)
    services = dataclasses.replace(azure_runtime.deps, webhook_retry_delays=(timedelta(0),) * 3)
    azure_runtime.__dict__["deps"] = services


def register(api: FunctionClient, admin: Person, url: str, events: list[str]) -> dict[str, Any]:
    response = api.call(
        "POST", "org/webhooks", person=admin,
        json={"url": url, "events": events, "description": "tests"},
    )  # fmt: skip
    assert response.status == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def deliver_all(host: QueueHost) -> None:
    host.drain(DELIVERIES, "deliver_webhook")


def test_a_receiver_gets_every_subscribed_entry_of_the_story_signed_and_nothing_else(
    world: World, api: FunctionClient, host: QueueHost, receiver: Receiver
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    subscribed = [
        "user.added", "association.started", "credential.credited", "user.departed",
        "association.ended", "credential.removal_scheduled",
    ]  # fmt: skip
    webhook = register(api, admin, receiver.url, subscribed)
    pat = world.person(tenant)
    api.add_user(admin, pat, "Pat")
    learner = unique("MCID")
    assert api.link(pat, "learn", world.assertion(learner)).status == 201
    host.send(EVENTS, event(learner, "AZ-104", world.clock.now()))
    tick(host)
    world.clock.advance(10 * DAY)
    tick(host)
    api.call("DELETE", f"org/users/{pat.email}", person=admin)
    deliver_all(host)
    assert receiver.received
    assert all(verify(webhook["secret"], h, body) for h, body in receiver.received)
    by_id = {e["id"]: e for e in receiver.entries()}
    assert sorted(e["type"] for e in by_id.values()) == sorted(subscribed)
    assert all(h["webhook-id"] == json.loads(b)["id"] for h, b in receiver.received)
    log_ids = {
        e["id"]
        for e in api.call("GET", "org/activity", person=admin).json()["entries"]
        if e["type"] in subscribed
    }
    assert set(by_id) == log_ids


def test_a_failed_delivery_comes_again_with_the_same_id(
    world: World, api: FunctionClient, host: QueueHost, receiver: Receiver
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    register(api, admin, receiver.url, ["user.added"])
    receiver.fail_next = 1
    api.add_user(admin, world.person(tenant))
    deliver_all(host)
    deliver_all(host)
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_endpoints_are_admin_only_https_at_most_ten_and_secrets_are_shown_once(
    world: World, api: FunctionClient, host: QueueHost, receiver: Receiver
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    member = api.member(world)
    forbidden = api.call("GET", "org/webhooks", person=member)
    assert (forbidden.status, forbidden.error_code) == (403, "forbidden")
    plain = api.call(
        "POST", "org/webhooks", person=admin,
        json={"url": "http://example.com/hook", "events": ["user.added"]},
    )  # fmt: skip
    assert (plain.status, plain.json()["error"]["field"]) == (400, "url")
    unknown = api.call(
        "POST", "org/webhooks", person=admin,
        json={"url": receiver.url, "events": ["user.renamed"]},
    )  # fmt: skip
    assert unknown.status == 400
    created = [register(api, admin, receiver.url, ["user.added"]) for _ in range(10)]
    assert all(c["secret"].startswith("whsec_") for c in created)
    eleventh = api.call(
        "POST", "org/webhooks", person=admin,
        json={"url": receiver.url, "events": ["user.added"]},
    )  # fmt: skip
    assert (eleventh.status, eleventh.error_code) == (409, "too_many_webhooks")
    listed = api.call("GET", "org/webhooks", person=admin).json()["webhooks"]
    assert len(listed) == 10 and all("secret" not in w for w in listed)
    first = created[0]["id"]
    assert api.call("POST", f"org/webhooks/{first}/test", person=admin).status == 202
    deliver_all(host)
    assert [e["type"] for e in receiver.entries()] == ["ping"]
    assert verify(created[0]["secret"], *receiver.received[0])
    assert api.call("DELETE", f"org/webhooks/{first}", person=admin).status == 204
    gone = api.call("DELETE", f"org/webhooks/{first}", person=admin)
    assert (gone.status, gone.error_code) == (404, "webhook_not_found")
