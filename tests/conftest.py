from collections.abc import Iterator
from typing import Any

import pytest

from devtools import azurite as azurite_process
from devtools.routing import Route, http_routes
from devtools.tokens import KeyPair
from shared import bootstrap as runtime
from shared.services.dependencies import Dependencies
from tests.support.api import FunctionClient
from tests.support.clock import MutableClock
from tests.support.fakes import bootstrap_test_app
from tests.support.queue_host import QueueHost
from tests.support.world import World, program_keys, settings_for


@pytest.fixture(scope="session")
def azurite() -> Iterator[azurite_process.AzuritePorts]:
    with azurite_process.running() as ports:
        yield ports


@pytest.fixture(scope="session")
def keys() -> dict[str, KeyPair]:
    return program_keys()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def world(keys: dict[str, KeyPair], clock: MutableClock) -> World:
    return World(keys, clock)


@pytest.fixture
def fake_deps(keys: dict[str, KeyPair], clock: MutableClock) -> Dependencies:
    return bootstrap_test_app(settings_for(keys), clock)


@pytest.fixture
def azure_runtime(
    azurite: azurite_process.AzuritePorts, keys: dict[str, KeyPair], clock: MutableClock
) -> Iterator[runtime.Runtime]:
    installed = runtime.Runtime(settings_for(keys, azurite.connection_string), clock)
    runtime.install(installed)
    yield installed
    runtime.reset()


@pytest.fixture(scope="session")
def app_functions() -> list[Any]:
    import function_app

    return list(function_app.app.get_functions())


@pytest.fixture(scope="session")
def routes(app_functions: list[Any]) -> list[Route]:
    return http_routes(app_functions)


@pytest.fixture
def host(app_functions: list[Any], azure_runtime: runtime.Runtime) -> QueueHost:
    return QueueHost(app_functions, azure_runtime)


@pytest.fixture
def api(routes: list[Route], azure_runtime: runtime.Runtime, world: World) -> FunctionClient:
    return FunctionClient(routes, world)
