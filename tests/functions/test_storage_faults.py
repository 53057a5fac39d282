"""Storage throttling and outages, injected in the SDK's pipeline (or by stopping
Azurite itself): the clients' retry policy absorbs short ones, and what outlasts it
is the contract's 503 with Retry-After, never a 500 and never a hang."""

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from devtools import azurite as azurite_process
from shared import bootstrap
from shared.adapters.tables import StorageRetry
from tests.support.api import FunctionClient
from tests.support.faults import FAULT_KINDS, FaultKind, FaultyTransport, Window
from tests.support.world import World, settings_for

BUDGET_SECONDS = 30  # far below a Functions invocation's timeout


def _install(rt: bootstrap.Runtime, transport: FaultyTransport) -> bootstrap.Runtime:
    faulty = bootstrap.Runtime(
        rt.settings,
        rt.clock,
        storage_retry=StorageRetry(total=3, backoff_seconds=0.2, backoff_max_seconds=1),
        storage_transport=transport,
    )
    bootstrap.install(faulty)
    return faulty


def test_storage_busy_for_a_moment_is_absorbed_by_the_clients_retry_policy(
    world: World, api: FunctionClient, azure_runtime: bootstrap.Runtime
) -> None:
    person = api.member(world)
    busy_left = [2]

    def two_busy_answers(number: int, request: Any) -> FaultKind | None:
        if busy_left[0] > 0:
            busy_left[0] -= 1
            return "server_busy"
        return None

    transport = FaultyTransport(two_busy_answers)
    _install(azure_runtime, transport)
    assert api.profile(person).status == 200
    assert [kind for _, kind, _, _ in transport.failed] == ["server_busy", "server_busy"]


def test_storage_busy_for_a_moment_under_an_activity_page_is_absorbed_too(
    world: World, api: FunctionClient, azure_runtime: bootstrap.Runtime
) -> None:
    admin = world.admin(world.tenant())
    assert api.add_user(admin, world.person(admin.tenant_id), "Pat").status == 201
    busy = [False, 2]

    def busy_under_the_page(number: int, request: Any) -> FaultKind | None:
        if busy[0] and busy[1] > 0 and "/activity()" in str(request.url):
            busy[1] -= 1
            return "server_busy"
        return None

    transport = FaultyTransport(busy_under_the_page)
    _install(azure_runtime, transport)
    busy[0] = True
    answer = api.call("GET", "org/activity", person=admin)
    assert answer.status == 200 and len(answer.json()["entries"]) == 1, answer.body
    assert [kind for _, kind, _, _ in transport.failed] == ["server_busy", "server_busy"]


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_storage_failing_past_the_retries_is_503_with_retry_after_never_500(
    world: World, api: FunctionClient, azure_runtime: bootstrap.Runtime, kind: FaultKind
) -> None:
    person = api.member(world)
    window = Window(kind)
    _install(azure_runtime, FaultyTransport(window))
    window.on = True
    for call in (
        lambda: api.profile(person),
        lambda: api.link(person, "learn", world.assertion("MCID-throttled")),
        lambda: api.call("GET", "org/users", person=world.admin(person.tenant_id)),
        # The activity page is read outside the SDK's query (query_page), through its pipeline.
        lambda: api.call("GET", "org/activity", person=world.admin(person.tenant_id)),
    ):
        started = time.monotonic()
        answer = call()
        assert time.monotonic() - started < BUDGET_SECONDS
        assert (answer.status, answer.error_code) == (503, "storage_unavailable"), answer.body
        assert int(answer.headers["Retry-After"]) > 0
    # At least one failed request per call (azure-core retries a POST only on a 5xx
    # answer, never on a dropped connection: it may have reached storage).
    assert window.refused >= 4
    window.on = False
    assert api.profile(person).status == 200


def test_azurite_stopped_is_503_and_health_says_storage_then_started_again_answers(
    world: World, api: FunctionClient, keys: Any
) -> None:
    ports = azurite_process.free_ports()
    data = Path(tempfile.mkdtemp()) / "azurite"
    process = azurite_process.start(ports, data_dir=data)
    settings = settings_for(keys, ports.connection_string)
    fast = StorageRetry(total=2, backoff_seconds=0.2, backoff_max_seconds=1)
    try:
        bootstrap.install(bootstrap.Runtime(settings, world.clock, storage_retry=fast))
        person = api.member(world)
        assert api.profile(person).status == 200
        azurite_process.stop(process)
        started = time.monotonic()
        down = api.profile(person)
        assert time.monotonic() - started < BUDGET_SECONDS
        assert (down.status, down.error_code) == (503, "storage_unavailable")
        assert int(down.headers["Retry-After"]) > 0
        bootstrap.install(bootstrap.Runtime(settings, world.clock, storage_retry=fast))
        health = api.call("GET", "health")
        assert (health.status, health.json()["error"]["dependency"]) == (503, "storage")
        process = azurite_process.start(ports, data_dir=data)
        bootstrap.install(bootstrap.Runtime(settings, world.clock, storage_retry=fast))
        assert api.profile(person).status == 200  # and nothing was lost
        assert api.call("GET", "health").status == 200
    finally:
        azurite_process.stop(process)
