"""Timers on several instances, as the Functions host runs them: one blob lease per
timer function, so one instance runs a scheduled timer at a time; and since a lease
can be lost, the timers stay right when two runs overlap anyway."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from typing import Any

from devtools import azurite as azurite_process
from devtools.host import FunctionHost
from devtools.timer_leases import TimerLeases
from shared import bootstrap as runtime
from shared.services.reconciler import reconcile
from shared.services.refresh import refresh
from tests.integration.test_refresh_cost import REFRESH_DAY, seed_due_rows
from tests.support.queue_host import QueueHost
from tests.support.world import unique


def test_one_instance_at_a_time_holds_a_timers_lease(
    azurite: azurite_process.AzuritePorts,
) -> None:
    first = TimerLeases(azurite.connection_string, host_id=unique("host"))
    second = TimerLeases(azurite.connection_string, host_id=first._host_id)
    with first.held("monthly_refresh") as mine:
        assert mine
        with second.held("monthly_refresh") as theirs:
            assert not theirs
        with second.held("reconcile") as other_timer:
            assert other_timer  # a lease per timer function
    with second.held("monthly_refresh") as theirs:
        assert theirs


def test_a_scheduled_run_is_skipped_where_another_instance_holds_the_lease(
    azurite: azurite_process.AzuritePorts, host: QueueHost
) -> None:
    runner: FunctionHost = host.host
    leases = TimerLeases(azurite.connection_string, host_id=unique("host"))
    runner.timer_leases = leases
    ran: list[str] = []
    runner.run_timer = lambda name, past_due=False, *, retry=False: ran.append(name)  # type: ignore[method-assign]
    other = TimerLeases(azurite.connection_string, host_id=leases._host_id)
    with other.held("reconcile"):
        assert runner.run_scheduled("reconcile") is False
    assert runner.run_scheduled("reconcile") is True
    assert ran == ["reconcile"]


def test_two_overlapping_refreshes_leave_the_report_as_one_would(
    azure_runtime: runtime.Runtime,
) -> None:
    """The lease lost: two instances run the monthly refresh at the same moment."""
    rt = azure_runtime
    rt.stores.removals.remove_many(rt.stores.removals.due(REFRESH_DAY, 100_000))
    tenant = unique("leaving-tenant")
    seed_due_rows(rt, tenant, learners=10, per_learner=2)
    start = threading.Barrier(2)

    def run(_: int) -> Any:
        start.wait()
        return refresh(rt.deps, REFRESH_DAY)

    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = list(pool.map(run, range(2)))
    assert sum(s.rows_removed for s in summaries) >= 20
    assert rt.stores.report.page(tenant, None)[0] == []
    assert rt.stores.removals.due(REFRESH_DAY, 100) == []
    day = datetime.combine(REFRESH_DAY, time(0), tzinfo=UTC)
    entries, _ = rt.stores.activity.page(tenant, since=day, until=day + timedelta(days=1))
    removed = [e for e in entries if e.type == "credential.removed"]
    assert len({e.id for e in removed}) == len(removed) == 20


def test_two_overlapping_reconciler_runs_finish_each_intent_once(
    azure_runtime: runtime.Runtime,
) -> None:
    start = threading.Barrier(2)
    azure_runtime.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]

    def run(_: int) -> Any:
        start.wait()
        return reconcile(azure_runtime.deps)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, range(2)))
    assert azure_runtime.stores.intents.older_than(azure_runtime.clock.now(), 10) == []
