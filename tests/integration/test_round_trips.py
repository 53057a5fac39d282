"""The storage round trips the README promises, counted exactly with a per-call
pipeline policy on the SDK clients."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from devtools.request_counter import RequestCounter
from shared import bootstrap as runtime
from tests.support.api import FunctionClient
from tests.support.world import Person, World, unique


@pytest.fixture
def counter(azure_runtime: runtime.Runtime) -> RequestCounter:
    counting = RequestCounter()
    runtime.install(runtime.Runtime(azure_runtime.settings, azure_runtime.clock, counting))
    return counting


def counted(counter: RequestCounter, call: Callable[[], object]) -> int:
    counter.reset()
    call()
    return counter.total


def linking(api: FunctionClient, person: Person, token: str) -> Callable[[], object]:
    """The link alone: the nonce its assertion carries is asked for before counting."""
    bound = api.bound(person, "learn", token)
    return lambda: api.link(person, "learn", bound)


def test_round_trips_per_operation(
    world: World, api: FunctionClient, counter: RequestCounter
) -> None:
    tenant, other_tenant = world.tenant(), world.tenant()
    person, mover = world.person(tenant), world.person(other_tenant)
    api.add_user(world.admin(tenant), person)
    api.add_user(world.admin(other_tenant), mover)
    api.profile(mover)
    learner = unique("MCID")
    for table in ("learners", "partnerusers", "activity", "intents"):
        runtime.current().tables.table(table)  # created once per process, not per call
    # The activity log adds one write per organization a change touches (a move: two);
    # the intent row that lets the reconciler finish a crashed change adds two (write
    # before, delete after) to every start and end of an association.
    assert counted(counter, linking(api, person, world.assertion(learner))) == 4 + 1 + 1
    assert counted(counter, lambda: api.profile(person)) == 2
    api.link(person, "partner_university", world.assertion(unique("PU"), "partner_university"))
    assert counted(counter, lambda: api.profile(person)) == 3
    assert counted(counter, lambda: api.unlink(person, "partner_university")) == 4 + 1 + 1
    world.clock.advance(timedelta(days=31))
    assert counted(counter, linking(api, mover, world.assertion(learner))) == 6 + 2 + 1


def test_round_trips_of_ingest_and_apply(
    world: World, api: FunctionClient, counter: RequestCounter
) -> None:
    from shared.adapters.ports import Wake
    from shared.services import credit_apply, credit_ingest
    from shared.wire import LearningEvent

    person = api.member(world)
    tenant = person.tenant_id
    learner = unique("MCID")
    rt = runtime.current()
    for table in ("learners", "partnerusers", "creditwakes", "skillsreport", "intents"):
        rt.tables.table(table)
    completed = world.clock.now()
    events = [
        LearningEvent.model_validate(
            {
                "event_id": unique("e"),
                "type": "credential.completed",
                "program": "learn",
                "learner_id": learner,
                "credential": {"id": f"C-{n}", "kind": "training", "title": "T"},
                "completed_at": completed.isoformat(),
            }
        )
        for n in range(20)
    ]
    assert counted(counter, lambda: credit_ingest.ingest(rt.deps, events[0])) == 2
    for item in events[1:-1]:
        credit_ingest.ingest(rt.deps, item)
    assert counted(counter, linking(api, person, world.assertion(learner))) == 5 + 1 + 1
    active = rt.stores.learners.load("learn", learner, state_only=True).active
    assert active is not None
    wake = Wake("learn", learner, active.association_id, completed)
    assert counted(counter, lambda: credit_ingest.ingest(rt.deps, events[-1])) == 3
    world.clock.advance(timedelta(days=10))
    assert counted(counter, lambda: credit_apply.apply(rt.deps, wake)) == 4 + 1
    assert len(rt.stores.report.page(tenant, None)[0]) == 20


def test_round_trips_of_a_departure(
    world: World, api: FunctionClient, counter: RequestCounter
) -> None:
    """Mark departed (read, write), end the association (read learner, commit), its
    entries (the departure's with the end's, one write), the copy to the user's row
    (read, write): 6 before the activity log, one more with it, and two for the
    departure's intent row (its ends need none of their own)."""
    person = api.member(world)
    admin = world.admin(person.tenant_id)
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
    runtime.current().tables.table("intents")
    assert (
        counted(counter, lambda: api.call("DELETE", f"org/users/{person.email}", person=admin))
        == 6 + 1 + 2
    )
