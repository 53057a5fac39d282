"""The storage round trips the README promises, counted exactly with a per-call
pipeline policy on the SDK clients."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from devtools.request_counter import RequestCounter
from shared import runtime
from tests.support.api import FunctionClient
from tests.support.world import World, unique


@pytest.fixture
def counter(azure_runtime: runtime.Runtime) -> RequestCounter:
    counting = RequestCounter()
    runtime.install(runtime.Runtime(azure_runtime.settings, azure_runtime.clock, counting))
    return counting


def counted(counter: RequestCounter, call: Callable[[], object]) -> int:
    counter.reset()
    call()
    return counter.total


def test_round_trips_per_operation(
    world: World, api: FunctionClient, counter: RequestCounter
) -> None:
    tenant, other_tenant = world.tenant(), world.tenant()
    person, mover = world.person(tenant), world.person(other_tenant)
    api.add_user(world.admin(tenant), person)
    api.add_user(world.admin(other_tenant), mover)
    api.profile(mover)
    learner = unique("MCID")
    for table in ("learners", "partnerusers"):
        runtime.current().tables.table(table)  # created once per process, not per call
    assert counted(counter, lambda: api.link(person, "learn", world.assertion(learner))) == 4
    assert counted(counter, lambda: api.profile(person)) == 2
    api.link(person, "partner_university", world.assertion(unique("PU"), "partner_university"))
    assert counted(counter, lambda: api.profile(person)) == 3
    assert counted(counter, lambda: api.unlink(person, "partner_university")) == 4
    world.clock.advance(timedelta(days=31))
    assert counted(counter, lambda: api.link(mover, "learn", world.assertion(learner))) == 6
