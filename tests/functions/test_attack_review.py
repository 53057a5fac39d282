"""The attack review of the newest surfaces (issue 21): one test per attack, named
after it, each seen failing on the code before its fix. Against Azurite through the
functions; the address guard is switched on where the attack needs it, with a
resolver the test controls (this machine has no outside network)."""

import contextlib
import dataclasses
import socket
import threading
import time
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.data.tables import TableClient

from shared import bootstrap
from shared.services import webhooks as webhook_service
from tests.functions.test_credit_rules import DUE, EVENTS
from tests.functions.test_webhooks import DELIVERIES, Receiver, deliver_all
from tests.support.api import FunctionClient
from tests.support.clock import MutableClock
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, settings_for, unique

PUBLIC = "93.184.216.34"
"""A global address; nothing here is ever allowed to connect to it."""
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison", DELIVERIES)


@pytest.fixture
def admin(world: World) -> Person:
    return world.admin(world.tenant())


@pytest.fixture
def guard_on(azure_runtime: bootstrap.Runtime) -> None:
    """The service as it runs outside local development: the address guard on."""
    services = dataclasses.replace(
        azure_runtime.deps, check_webhook_addresses=True, allow_local_webhooks=False
    )
    azure_runtime.__dict__["deps"] = services


class Resolver:
    """Answers chosen names with chosen addresses, in turn (the last one repeats);
    every other name goes to the real resolver (Azurite's 127.0.0.1)."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: dict[str, int] = {}

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        turn = self.asked.get(name, 0)
        self.asked[name] = turn + 1
        address = self.answers[name][min(turn, len(self.answers[name]) - 1)]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        where: tuple[Any, ...] = (
            (address, port or 0, 0, 0) if ":" in address else (address, port or 0)
        )
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", where)]


def resolving(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> Resolver:
    resolver = Resolver(answers)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def register(api: FunctionClient, admin: Person, url: str) -> Any:
    return api.call(
        "POST", "org/webhooks", person=admin, json={"url": url, "events": ["user.added"]}
    )


class Listener:
    """A TCP listener on loopback that only counts who connects to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    yield running
    running.sock.close()


# 1. SSRF guard bypassed with a backslash


@pytest.mark.usefixtures("guard_on")
def test_a_backslash_cannot_smuggle_a_loopback_host_past_the_guard(
    api: FunctionClient, admin: Person, monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    resolving(monkeypatch, {"public.example": [PUBLIC]})
    for url in (
        f"https://127.0.0.1:{listener.port}\\@public.example/hook",
        f"https://public.example\\@127.0.0.1:{listener.port}/hook",
        "https://public.example/ho\\ok",
    ):
        answer = register(api, admin, url)
        assert (answer.status, answer.error_code) == (400, "invalid_request"), url
    assert listener.connections == 0


@pytest.mark.usefixtures("guard_on")
def test_user_info_in_a_webhook_url_is_refused(
    api: FunctionClient, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, {"public.example": [PUBLIC]})
    answer = register(api, admin, "https://user:pass@public.example/hook")
    assert (answer.status, answer.error_code) == (400, "invalid_request")


# 2. DNS rebinding between the check and the connection


@pytest.mark.usefixtures("guard_on")
def test_dns_rebinding_after_the_check_never_reaches_loopback(
    api: FunctionClient,
    admin: Person,
    host: QueueHost,
    monkeypatch: pytest.MonkeyPatch,
    listener: Listener,
) -> None:
    # Public for the registration's check and the delivery's, loopback afterwards.
    resolving(monkeypatch, {"rebind.example": [PUBLIC, PUBLIC, "127.0.0.1"]})
    connected: list[Any] = []
    real_connect = socket.create_connection

    def connect(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("this machine has no outside network")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    created = register(api, admin, f"https://rebind.example:{listener.port}/hook")
    assert created.status == 201, created.body
    api.add_user(admin, Person(admin.tenant_id, f"{unique('p')}@contoso.com"))
    deliver_all(host)
    assert listener.connections == 0
    assert connected and all(address[0] == PUBLIC for address in connected)


# 3. The guard fails closed


def test_the_address_guard_is_on_wherever_the_process_is_not_local_development(
    keys: Any, clock: MutableClock, azure_runtime: bootstrap.Runtime
) -> None:
    not_on_app_service = settings_for(
        keys, azure_functions_environment=None, website_auth_enabled="True"
    )
    context = bootstrap.build_context(azure_runtime.stores, not_on_app_service, clock)
    assert context.check_webhook_addresses
    assert not context.allow_local_webhooks
    on_app_service = settings_for(
        keys, website_site_name="skills-link", website_auth_enabled="True"
    )
    assert bootstrap.build_context(
        azure_runtime.stores, on_app_service, clock
    ).check_webhook_addresses
    local = settings_for(keys)
    assert not bootstrap.build_context(azure_runtime.stores, local, clock).check_webhook_addresses


# 4. A hostile receiver: a huge answer, a trickle


class HostileReceiver:
    def __init__(self, behaviour: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with contextlib.suppress(OSError):
                    behaviour(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _huge(handler: BaseHTTPRequestHandler) -> None:
    size = 64 * 1024 * 1024
    handler.send_response(200)
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b"x" * (1024 * 1024)
    for _ in range(size // len(chunk)):
        handler.wfile.write(chunk)


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n")
    handler.wfile.flush()
    for _ in range(200):
        time.sleep(0.2)
        handler.wfile.write(b"X-Slow: 1\r\n")
        handler.wfile.flush()


def test_a_huge_answer_is_read_only_to_4_kib() -> None:
    receiver = HostileReceiver(_huge)
    tracemalloc.start()
    try:
        webhook_service.post_json(receiver.url, b"{}", {"Content-Type": "application/json"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        receiver.server.shutdown()
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while reading the answer"


def test_a_receiver_trickling_its_answer_is_given_up_on_its_total_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The deadline shrunk from 10 s so the test waits 1 s; the trickle would last 40 s.
    monkeypatch.setattr(webhook_service, "TIMEOUT_SECONDS", 1.0)
    receiver = HostileReceiver(_trickle)
    outcome: list[bool] = []
    started = time.monotonic()
    worker = threading.Thread(
        target=lambda: outcome.append(webhook_service.post_json(receiver.url, b"{}", {})),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=8)
    receiver.server.shutdown()
    assert outcome == [False], "the delivery was still reading after 8 s"
    assert time.monotonic() - started < 3


# 5. and 6. The activity log: unbounded months, a repeated type


@pytest.fixture
def table_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every filter sent to a table, as sent (read where every table request passes,
    whichever client call made it); more than 200 queries fail the test at once."""
    from urllib.parse import parse_qs, urlsplit

    from shared.adapters import tables

    filters: list[str] = []
    real_check = tables.check_filter

    def check(request: Any) -> None:
        query = parse_qs(urlsplit(str(request.http_request.url)).query)
        filters.extend(query.get("$filter", []))
        if len(filters) > 200:
            raise AssertionError("more than 200 table queries for one request")
        real_check(request)

    monkeypatch.setattr(tables, "check_filter", check)
    return filters


@pytest.mark.parametrize(
    "params",
    [
        {"since": "1500-01-01T00:00:00Z"},
        {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"},
        {"until": "9999-12-31T23:59:59Z"},
    ],
)
def test_an_activity_read_from_the_year_1500_scans_a_bounded_number_of_months(
    api: FunctionClient, admin: Person, table_queries: list[str], params: dict[str, str]
) -> None:
    pages = 0
    continuation: str | None = None
    while True:
        query = {**params, **({"continuation": continuation} if continuation else {})}
        answer = api.call("GET", "org/activity", person=admin, params=query)
        assert answer.status == 200, answer.body
        pages += 1
        continuation = answer.json()["continuation"]
        if continuation is None:
            break
        assert pages < 10
    # The retention (two years) is all there is to read: 25 months at most.
    assert len(table_queries) <= 26


def test_a_type_filter_repeated_500_times_is_deduplicated(
    api: FunctionClient, admin: Person, table_queries: list[str]
) -> None:
    repeated = ",".join(["user.added"] * 250 + ["user.departed"] * 250)
    answer = api.call("GET", "org/activity", person=admin, params={"type": repeated})
    assert answer.status == 200, answer.body
    from shared.domain.activity import ACTIVITY_TYPES

    every_type = ",".join(ACTIVITY_TYPES)
    answer = api.call(
        "GET", "org/activity", person=admin, params={"type": every_type, "email": "a@b.com"}
    )
    assert answer.status == 200, answer.body
    from shared.adapters.tables import comparisons

    assert table_queries and max(comparisons(f) for f in table_queries) <= 15
    unknown = api.call("GET", "org/activity", person=admin, params={"type": "user.renamed"})
    assert (unknown.status, unknown.error_code) == (400, "invalid_request")


# 7. The portal's 500s


@pytest.mark.parametrize("path", ["app.js\x00.png", "\x00", "a" * 300 + ".js", "x/" * 200])
def test_the_portal_answers_404_to_nul_and_overlong_names(path: str) -> None:
    from shared.entrypoints import portal_site

    assert portal_site.answer(path).status_code == 404


# 8. Two more 500s


def test_an_expiring_within_of_a_billion_days_is_400(api: FunctionClient, admin: Person) -> None:
    for value in ("P999999999D", "P36525D"):
        answer = api.call(
            "GET", "org/skills-report", person=admin, params={"expiring_within": value}
        )
        assert (answer.status, answer.error_code) == (400, "invalid_request"), value
    fine = api.call("GET", "org/skills-report", person=admin, params={"expiring_within": "P90D"})
    assert fine.status == 200


@pytest.mark.usefixtures("guard_on")
@pytest.mark.parametrize(
    "url",
    ["https://a..b/h", f"https://{'a' * 64}.example/h", "https://ex\u00adample.com/h"],
)
def test_a_webhook_host_that_cannot_be_idna_encoded_is_400(
    api: FunctionClient, admin: Person, url: str
) -> None:
    answer = register(api, admin, url)
    assert (answer.status, answer.error_code) == (400, "invalid_request")


# 9. The ten-endpoint limit under concurrency


def test_24_concurrent_registrations_store_exactly_ten_endpoints(
    api: FunctionClient, admin: Person, host: QueueHost
) -> None:
    receiver = Receiver()
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            answers = list(pool.map(lambda _: register(api, admin, receiver.url), range(24)))
    finally:
        receiver.server.shutdown()
    assert sorted({a.status for a in answers}) <= [201, 409, 503]
    assert sum(a.status == 201 for a in answers) == 10
    listed = api.call("GET", "org/webhooks", person=admin).json()["webhooks"]
    assert len(listed) == 10


# 10. The ping amplifies


def test_a_ping_is_once_a_minute_and_a_failed_one_is_not_retried(
    world: World, api: FunctionClient, admin: Person, host: QueueHost
) -> None:
    receiver = Receiver()
    try:
        created = register(api, admin, receiver.url).json()
        receiver.fail_next = 100
        ping = f"org/webhooks/{created['id']}/test"
        assert api.call("POST", ping, person=admin).status == 202
        again = api.call("POST", ping, person=admin)
        assert (again.status, again.error_code) == (429, "rate_limited")
        assert 1 <= int(again.headers["Retry-After"]) <= 60
        for _ in range(3):
            deliver_all(host)
        assert len(receiver.received) == 1
        world.clock.advance(timedelta(seconds=61))
        assert api.call("POST", ping, person=admin).status == 202
    finally:
        receiver.server.shutdown()


# Suspected from reading


def test_another_work_account_with_the_same_email_is_refused_account_mismatch(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    email = f"{unique('pat')}@contoso.com"
    first = Person(tenant, email, object_id="11111111-1111-1111-1111-111111111111")
    api.add_user(admin, first)
    assert api.profile(first).status == 200
    stranger = Person(tenant, email, object_id="22222222-2222-2222-2222-222222222222")
    for answer in (
        api.profile(stranger),
        api.link(stranger, "learn", world.assertion(unique("MCID"))),
        api.unlink(stranger, "learn"),
    ):
        assert (answer.status, answer.error_code) == (403, "account_mismatch"), answer.body
        assert "remove" in answer.json()["error"]["guidance"].lower()
    assert api.profile(first).status == 200


def test_a_principal_from_another_identity_provider_is_refused(
    world: World, api: FunctionClient
) -> None:
    import base64
    import json

    person = api.member(world)
    document = json.loads(base64.b64decode(person.header))
    for auth_typ in ("google", "", None):
        forged = {**document, "auth_typ": auth_typ}
        header = base64.b64encode(json.dumps(forged).encode()).decode()
        answer = api.call("GET", "me", headers={"X-MS-CLIENT-PRINCIPAL": header})
        assert (answer.status, answer.error_code) == (401, "unauthenticated"), auth_typ


@pytest.mark.parametrize("webhook_id", ["x", "..", "a|b", "A" * 32, "0" * 31, "'or''='", "%00"])
def test_a_webhook_id_the_service_could_not_issue_is_404_before_storage(
    api: FunctionClient, admin: Person, monkeypatch: pytest.MonkeyPatch, webhook_id: str
) -> None:
    from shared.adapters.webhooks import WebhookTable

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("storage was asked for an id the service never issues")

    monkeypatch.setattr(WebhookTable, "get", never)
    monkeypatch.setattr(WebhookTable, "delete", never)
    for method, path in (
        ("DELETE", f"org/webhooks/{webhook_id}"),
        ("POST", f"org/webhooks/{webhook_id}/test"),
    ):
        answer = api.call(method, path, person=admin)
        assert (answer.status, answer.error_code) == (404, "webhook_not_found"), path


def test_unicode_forms_of_one_address_are_one_user_and_format_characters_are_refused(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    name = unique("jose")
    composed = unicodedata.normalize("NFC", f"{name}\u00e9@contoso.com")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    def add(email: str) -> Any:
        return api.call(
            "POST", "org/users", person=admin, json={"email": email, "display_name": "José"}
        )

    assert add(composed).status == 201
    assert (add(decomposed).status, add(decomposed).error_code) == (409, "user_exists")
    assert (add(decomposed.upper()).status) == 409
    for hostile in (
        f"{name}\u200b@contoso.com",
        f"{name}\u202e@contoso.com",
        f"\ufeff{name}@contoso.com",
        f"{name}\uff41@contoso.com",
    ):
        answer = add(hostile)
        assert (answer.status, answer.error_code) == (400, "invalid_request"), repr(hostile)
    # The principal's email is normalised the same way: NFD signs in as the NFC user.
    pat = Person(tenant, decomposed)
    assert api.profile(pat).json()["user"]["email"] == composed
    assert api.call("DELETE", f"org/users/{decomposed}", person=admin).status == 202


# The guard's address classes


@pytest.mark.usefixtures("guard_on")
@pytest.mark.parametrize(
    "address",
    [
        "168.63.129.16",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "224.0.0.1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "240.0.0.1",
    ],
)
def test_the_guard_refuses_azure_platform_nat64_6to4_and_multicast_addresses(
    api: FunctionClient, admin: Person, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving(monkeypatch, {"sneaky.example": [address]})
    answer = register(api, admin, "https://sneaky.example/hook")
    assert (answer.status, answer.error_code) == (400, "invalid_request"), address
    literal = f"[{address}]" if ":" in address else address
    answer = register(api, admin, f"https://{literal}/hook")
    assert (answer.status, answer.error_code) == (400, "invalid_request"), literal


# The stolen assertion


def _nonce(api: FunctionClient, person: Person, program: str = "learn") -> Any:
    return api.call("POST", "me/links/nonce", person=person, json={"program": program})


def test_a_stolen_unused_assertion_cannot_link_another_person(
    world: World, api: FunctionClient
) -> None:
    victim = api.member(world)
    thief = api.member(world)
    issued = _nonce(api, victim)
    assert issued.status == 201, issued.body
    assert set(issued.json()) == {"nonce", "expires_at"}
    learner = unique("MCID")
    stolen = world.assertion(learner, nonce=issued.json()["nonce"])
    answer = api.call(
        "POST", "me/links", person=thief, json={"program": "learn", "assertion": stolen}
    )
    assert (answer.status, answer.error_code) == (401, "invalid_assertion")
    assert answer.json()["error"]["reason"] == "nonce"
    mine = api.call(
        "POST", "me/links", person=victim, json={"program": "learn", "assertion": stolen}
    )
    assert mine.status == 201, mine.body
    again = api.call(
        "POST", "me/links", person=victim, json={"program": "learn", "assertion": stolen}
    )
    assert again.status == 200


def test_an_assertion_without_a_nonce_or_with_a_spent_or_expired_one_is_refused(
    world: World, api: FunctionClient
) -> None:
    person = api.member(world)

    def link(token: str) -> Any:
        return api.call(
            "POST", "me/links", person=person, json={"program": "learn", "assertion": token}
        )

    def refused(token: str) -> None:
        answer = link(token)
        assert (answer.status, answer.error_code) == (401, "invalid_assertion"), answer.body
        assert answer.json()["error"]["reason"] == "nonce"

    refused(world.assertion(unique("MCID")))
    refused(world.assertion(unique("MCID"), nonce="made-up"))
    other_program = _nonce(api, person, "partner_university").json()["nonce"]
    refused(world.assertion(unique("MCID"), nonce=other_program))
    late = _nonce(api, person).json()["nonce"]
    world.clock.advance(timedelta(minutes=11))
    refused(world.assertion(unique("MCID"), nonce=late, age=timedelta(0)))
    spent = _nonce(api, person).json()["nonce"]
    assert link(world.assertion(unique("MCID"), nonce=spent)).status == 201
    assert api.unlink(person, "learn").status == 204
    world.clock.advance(timedelta(days=31))
    refused(world.assertion(unique("MCID"), nonce=spent))


def test_a_sixth_nonce_drops_the_oldest(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    nonces = [_nonce(api, person).json()["nonce"] for _ in range(6)]
    oldest = api.call(
        "POST", "me/links", person=person,
        json={"program": "learn", "assertion": world.assertion(unique("MCID"), nonce=nonces[0])},
    )  # fmt: skip
    assert oldest.json()["error"]["reason"] == "nonce"
    newest = api.call(
        "POST", "me/links", person=person,
        json={"program": "learn", "assertion": world.assertion(unique("MCID"), nonce=nonces[5])},
    )  # fmt: skip
    assert newest.status == 201


def test_only_a_partner_user_gets_a_nonce(world: World, api: FunctionClient) -> None:
    stranger = world.person()
    answer = _nonce(api, stranger)
    assert (answer.status, answer.error_code) == (403, "not_partner_center_user")
    member = api.member(world)
    bad = api.call("POST", "me/links/nonce", person=member, json={"program": "linkedin"})
    assert (bad.status, bad.error_code) == (400, "invalid_request")


def test_whoami_answers_from_the_principal_alone(
    world: World, api: FunctionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = world.admin(world.tenant())

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("whoami asked storage")

    monkeypatch.setattr(TableClient, "query_entities", never)
    monkeypatch.setattr(TableClient, "get_entity", never)
    answer = api.call("GET", "whoami", person=admin)
    assert answer.status == 200, answer.body
    assert answer.json() == {
        "tenant_id": admin.tenant_id,
        "object_id": admin.caller.object_id,
        "email": admin.email,
        "name": answer.json()["name"],
        "admin": True,
    }
    assert api.call("GET", "whoami").status == 401


# Every filter the code builds, at its largest, within Table Storage's 15 comparisons


def test_every_table_filter_the_code_builds_stays_within_15_comparisons(
    azure_runtime: bootstrap.Runtime, table_queries: list[str]
) -> None:
    from datetime import date

    from shared.adapters.tables import comparisons
    from shared.domain.activity import ACTIVITY_TYPES

    stores, now, tenant = azure_runtime.stores, azure_runtime.clock.now(), unique("tenant")
    builders: dict[str, Callable[[], object]] = {
        "activity page, every type and an email": lambda: stores.activity.page(
            tenant,
            since=now - timedelta(days=1),
            until=now,
            types=list(ACTIVITY_TYPES),
            email="a@contoso.com",
        ),
        "activity retention": lambda: stores.activity.remove_before(
            tenant, now - timedelta(days=3000)
        ),
        "users never linked": lambda: stores.users.page(tenant, linked=False, continuation=None),
        "users linked": lambda: stores.users.page(tenant, linked=True, continuation=None),
        "learner and one credential": lambda: stores.learners.load(
            "learn", unique("MCID"), only_credential="AZ-104"
        ),
        "a whole learner": lambda: stores.learners.load("learn", unique("MCID")),
        "webhooks": lambda: stores.webhooks.list(tenant),
        "skills report": lambda: stores.report.page(tenant, None),
        "credit wake-ups due": lambda: stores.wakes.due(now, 10),
        "removals due": lambda: stores.removals.due(date(2000, 1, 10), 10),
        "expiry warnings due": lambda: stores.expiry_warnings.due(date(2000, 1, 1), 10),
        "intents left behind": lambda: stores.intents.older_than(now - timedelta(days=3650), 10),
    }
    for name, build in builders.items():
        table_queries.clear()
        build()
        assert table_queries, f"{name}: no query was sent"
        assert max(comparisons(f) for f in table_queries) <= 15, name


def test_a_filter_over_15_comparisons_is_stopped_before_it_is_sent(
    azure_runtime: bootstrap.Runtime,
) -> None:
    from shared.adapters.tables import FilterTooLarge

    table = azure_runtime.tables.table("webhooks")
    sixteen = " or ".join(f"RowKey eq 'r{n}'" for n in range(16))
    with pytest.raises(FilterTooLarge):
        list(table.query_entities(sixteen))
    fifteen = " or ".join(f"RowKey eq 'r{n}'" for n in range(15))
    assert list(table.query_entities(fifteen)) == []


def test_a_refused_link_spends_neither_its_nonce_nor_its_jti(
    world: World, api: FunctionClient
) -> None:
    """Contract v4: a nonce is spent only by the association it started, as a `jti`."""
    person = api.member(world)
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
    nonce = _nonce(api, person).json()["nonce"]
    other = world.assertion(unique("MCID"), nonce=nonce)

    def link() -> Any:
        return api.call(
            "POST", "me/links", person=person, json={"program": "learn", "assertion": other}
        )

    assert (link().status, link().error_code) == (409, "already_linked")
    assert api.unlink(person, "learn").status == 204
    assert link().status == 201


@pytest.mark.usefixtures("guard_on")
def test_a_webhook_url_over_2048_characters_is_400(
    api: FunctionClient, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, {"public.example": [PUBLIC]})
    base = "https://public.example/"
    assert register(api, admin, base + "a" * (2048 - len(base))).status == 201
    answer = register(api, admin, base + "a" * (2049 - len(base)))
    assert (answer.status, answer.error_code) == (400, "invalid_request")


def test_a_signed_in_email_with_a_format_character_is_400(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    hidden = Person(tenant, f"{unique('pat')}\u200b@contoso.com")
    answer = api.call("GET", "whoami", person=hidden)
    assert (answer.status, answer.error_code) == (400, "invalid_request")
    assert api.profile(hidden).status == 400
