"""`make bench`: storage round trips per operation, throughput against the storage
floor, cost growth and cold start, each printed beside its target and written to
benchmarks/results/latest.json. Starts its own Azurite. `--smoke` runs tiny sizes."""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"


@dataclass
class Sizes:
    throughput_links: int = 400
    throughput_credits: int = 300
    floor_ops: int = 1_000
    refresh_users: tuple[int, ...] = (1_000, 10_000, 50_000)
    report_rows: tuple[int, ...] = (100, 1_000, 10_000)
    import_runs: int = 7
    burst_links: int = 1_000


SMOKE = Sizes(20, 20, 50, (100, 300), (10, 50), 2, 20)


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


@dataclass
class Bench:
    figures: list[Figure] = field(default_factory=list)

    def add(
        self, name: str, value: float, unit: str, target: str = "", met: bool | None = None
    ) -> None:
        self.figures.append(Figure(name, round(value, 3), unit, target, met))
        verdict = "" if met is None else ("met" if met else "MISSED")
        print(f"{name:<58} {value:>12.3f} {unit:<10} {target:<28} {verdict}", flush=True)


CREDIT_APPLY_ROUND_TRIPS = (
    5  # read learner, commit, report rows, activity entry, the wake-up removed
)
LINK_ROUND_TRIPS = (
    6  # a first link: 4, its activity entry, its intent row (the reconciler removes it)
)


def _world(connection: str) -> Any:
    from devtools.request_counter import RequestCounter
    from devtools.tokens import KeyPair
    from shared import bootstrap as runtime
    from tests.support.clock import MutableClock
    from tests.support.world import World, settings_for

    keys = {"learn": KeyPair.generate("ES256"), "partner_university": KeyPair.generate("RS256")}
    clock = MutableClock(datetime.now(UTC).replace(microsecond=0))
    counter = RequestCounter()
    rt = runtime.Runtime(settings_for(keys, connection), clock, counter)
    runtime.install(rt)
    for table in (
        "learners",
        "partnerusers",
        "creditwakes",
        "skillsreport",
        "reportremovals",
        "activity",
        "intents",
    ):
        rt.tables.table(table)
    return World(keys, clock), rt, counter


def round_trips(bench: Bench, connection: str, host: Any) -> None:
    from shared.adapters.ports import Wake
    from shared.services import credit_apply, credit_ingest, departure
    from shared.services.commands import RemoveUser
    from shared.wire import LearningEvent
    from tests.support.api import FunctionClient
    from tests.support.world import Person, unique

    world, rt, counter = _world(connection)
    api = FunctionClient(host.routes, world)
    host.queue_client(LEARNING_EVENTS)

    def count(call: Callable[[], object]) -> int:
        counter.reset()
        call()
        total: int = counter.total
        return total

    tenant, other = world.tenant(), world.tenant()
    person, mover = world.person(tenant), world.person(other)
    api.add_user(world.admin(tenant), person)
    api.add_user(world.admin(other), mover)
    api.profile(mover)
    learner = unique("MCID")

    def event(learner_id: str, n: int) -> LearningEvent:
        return LearningEvent.model_validate({
            "event_id": unique("e"), "type": "credential.completed", "program": "learn",
            "learner_id": learner_id, "credential": {"id": f"C-{n}", "kind": "training", "title": "T"},
            "completed_at": world.clock.now().isoformat(),
        })  # fmt: skip

    # The activity log may add one write per operation (its issue allows it); the
    # reconciler's intent row two (write, delete) per start or end of an association.
    targets = {
        "first link": 4 + 1 + 1, "link with 20 earlier credentials": 5 + 1 + 1,
        "unlink": 4 + 1 + 1, "profile read": 3, "event ingest": 3, "credit apply": 4 + 1,
    }  # fmt: skip

    def linking(who: Person, token: str) -> Callable[[], object]:
        # The nonce the assertion carries is asked for before counting: the link alone.
        bound = api.bound(who, "learn", token)
        return lambda: api.link(who, "learn", bound)

    figures = {"first link": count(linking(person, world.assertion(learner)))}
    figures["profile read"] = count(lambda: api.profile(person))
    figures["unlink"] = count(lambda: api.unlink(person, "learn"))
    rich, rich_learner = world.person(tenant), unique("MCID")
    api.add_user(world.admin(tenant), rich)
    api.profile(rich)
    for n in range(20):
        credit_ingest.ingest(rt.deps, event(rich_learner, n))
    figures["link with 20 earlier credentials"] = count(
        linking(rich, world.assertion(rich_learner))
    )
    figures["event ingest"] = count(lambda: credit_ingest.ingest(rt.deps, event(rich_learner, 99)))
    active = rt.stores.learners.load("learn", rich_learner, state_only=True).active
    assert active is not None
    world.clock.advance(timedelta(days=10, seconds=1))
    wake = Wake("learn", rich_learner, active.association_id, world.clock.now())
    figures["credit apply"] = count(lambda: credit_apply.apply(rt.deps, wake))
    world.clock.advance(timedelta(days=31))
    figures["move to another organization"] = count(linking(mover, world.assertion(rich_learner)))
    leaving = world.person(tenant)
    api.add_user(world.admin(tenant), leaving)
    api.link(leaving, "learn", world.assertion(unique("MCID")))
    figures["one departure"] = count(
        lambda: departure.depart_user(
            rt.deps, world.admin(tenant).caller, RemoveUser(email=leaving.email)
        )
    )
    for name, value in figures.items():
        target = targets.get(name)
        bench.add(
            f"round trips: {name}", value, "requests",
            f"<= {target}" if target else "", value <= target if target else None,
        )  # fmt: skip


def _timed_parallel(workers: int, items: list[Any], work: Callable[[Any], object]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, items))
    return len(items) / (time.perf_counter() - started)


def throughput(bench: Bench, connection: str, sizes: Sizes, host: Any) -> None:
    from azure.data.tables import TableServiceClient, UpdateMode
    from azure.storage.queue import QueueClient

    from shared.domain.model import PartnerUser
    from tests.support.api import FunctionClient
    from tests.support.world import Person, unique

    world, rt, _ = _world(connection)
    api = FunctionClient(host.routes, world)
    floor_table = TableServiceClient.from_connection_string(connection).create_table_if_not_exists(
        "benchfloor"
    )
    for workers in (1, 4):
        floor = _timed_parallel(
            workers, list(range(sizes.floor_ops)),
            lambda n: floor_table.upsert_entity(
                {"PartitionKey": f"p{n % 50}", "RowKey": uuid.uuid4().hex, "V": n}, mode=UpdateMode.REPLACE
            ),
        )  # fmt: skip
        tenant = world.tenant()
        people = [
            Person(tenant, f"u{n}-{uuid.uuid4().hex[:6]}@contoso.com")
            for n in range(sizes.throughput_links)
        ]
        for person in people:
            rt.stores.users.insert(
                PartnerUser(
                    tenant_id=tenant,
                    email=person.email,
                    display_name="U",
                    created_at=world.clock.now(),
                )
            )
        # Each link's nonce is asked for before the clock starts: the figure is links.
        jobs = [(p, api.bound(p, "learn", world.assertion(unique("MCID")))) for p in people]
        links = _timed_parallel(workers, jobs, lambda job: api.link(job[0], "learn", job[1]))
        ratio = links / floor
        bench.add(f"links/s, {workers} worker(s)", links, "per s")
        bench.add(f"storage floor (single upserts/s), {workers} worker(s)", floor, "per s")
        bench.add(
            f"link/floor ratio x {LINK_ROUND_TRIPS} round trips, {workers} worker(s)",
            ratio * LINK_ROUND_TRIPS, "", ">= 0.85", ratio * LINK_ROUND_TRIPS >= 0.85,
        )  # fmt: skip

    queue_name = CREDITS_DUE
    raw = QueueClient.from_connection_string(connection, "benchfloor")
    raw.create_queue()
    for workers in (1, 4):
        for _ in range(sizes.floor_ops):
            raw.send_message("x")

        def receive_delete(_: int) -> None:
            for message in raw.receive_messages(max_messages=1):
                raw.delete_message(message)

        floor = _timed_parallel(workers, list(range(sizes.floor_ops)), receive_delete)
        _seed_due_credits(rt, world, sizes.throughput_credits)
        host.run_timer("send_due_credit_wakes")
        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            handled = sum(pool.map(lambda _: host.drain("apply_due_credit"), range(workers)))
        elapsed = time.perf_counter() - started
        applied = handled / elapsed
        bench.add(
            f"credit wake-ups applied/s via {queue_name}, {workers} worker(s)", applied, "per s",
            f"this process's CPU {100 * (time.process_time() - cpu) / elapsed:.0f} % of a core",
        )  # fmt: skip
        bench.add(f"queue floor (receive+delete/s), {workers} worker(s)", floor, "per s")
        # An apply is 5 storage requests (round trips above) on top of its message's
        # receive and delete: the ratio says how close applying comes to the storage's pace.
        ratio = applied * CREDIT_APPLY_ROUND_TRIPS / floor
        bench.add(
            f"credit ratio: applies/s x {CREDIT_APPLY_ROUND_TRIPS} requests / queue floor, {workers} worker(s)",
            ratio, "", ">= 0.85", ratio >= 0.85,
        )  # fmt: skip


def credit_processes(bench: Bench, connection: str, sizes: Sizes, host: Any) -> None:
    """Credit wake-ups applied by 1 and then 2 processes draining one queue, as the host
    scales out (an instance is a process): threads of one process share its GIL, and an
    apply is mostly the storage SDK's Python work (see PERFORMANCE)."""
    world, rt, _ = _world(connection)
    # Each child sets up, says so, waits for the word, drains, and says how many.
    child = (
        "import sys; from benchmarks.run import _world; from devtools.host import FunctionHost; "
        f"_world({connection!r}); host = FunctionHost.for_project({connection!r}); "
        "print('ready', flush=True); sys.stdin.readline(); "
        "print(host.drain('apply_due_credit'), flush=True)"
    )
    rates = []
    for processes in (1, 2):
        _seed_due_credits(rt, world, sizes.throughput_credits)
        host.run_timer("send_due_credit_wakes")
        children = [
            subprocess.Popen(
                [sys.executable, "-c", child],
                cwd=ROOT,
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            for _ in range(processes)
        ]
        for running in children:
            assert running.stdout is not None and running.stdout.readline().strip() == "ready"
        started, busy = time.perf_counter(), _machine_busy()
        for running in children:
            assert running.stdin is not None
            running.stdin.write("go\n")
            running.stdin.flush()
        handled = sum(int(running.communicate()[0].split()[-1]) for running in children)
        rates.append(handled / (time.perf_counter() - started))
        bench.add(
            f"credit wake-ups applied/s, {processes} process(es) draining", rates[-1], "per s",
            f"the machine's {os.cpu_count()} cores {_machine_busy(busy):.0%} busy",
        )  # fmt: skip
    # No target: past one process the cores run out (Azurite shares them), which the
    # busy share beside each figure shows.
    bench.add("credit applies/s, 2 processes / 1", rates[1] / rates[0], "x")


def _machine_busy(since: tuple[int, int] | None = None) -> Any:
    """The machine's busy and total CPU time (Linux /proc/stat); with `since`, the busy
    share in between."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total, idle = sum(fields[:8]), fields[3] + fields[4]
    if since is None:
        return total - idle, total
    return (total - idle - since[0]) / max(1, total - since[1])


def _seed_due_credits(rt: Any, world: Any, count: int) -> None:
    from shared.adapters.ports import Wake
    from shared.domain.learner import Learner
    from shared.domain.model import AssociationRecord, CredentialRecord
    from tests.support.world import unique

    for left in rt.stores.wakes.due(datetime(2100, 1, 1, tzinfo=UTC), 100_000):
        rt.stores.wakes.remove(left)
    tenant = world.tenant()
    # Due a minute ago: on time for the queue path (an overdue one the scheduler
    # would apply itself).
    due = world.clock.now() - timedelta(minutes=1)
    past = due - timedelta(days=10)
    for n in range(count):
        learner = unique("MCID")
        association = AssociationRecord(
            association_id=unique("a"), program="learn", learner_id=learner, tenant_id=tenant,
            user_email=f"p{n}@contoso.com", started_at=past, jti=unique("j"),
        )  # fmt: skip
        seeded = Learner.new("learn", learner)
        seeded.state = seeded.state.with_record(association)
        seeded.fence()
        seeded.record_credential(
            CredentialRecord(id="AZ-104", kind="certification", title="T", completed_at=past),
            timedelta(days=10),
        )
        rt.stores.learners.commit(seeded)
        rt.stores.wakes.schedule(Wake("learn", learner, association.association_id, due))


def cost_growth(bench: Bench, connection: str, sizes: Sizes) -> None:
    from shared.services.refresh import refresh
    from tests.integration.test_refresh_cost import (
        ONE_ORGANIZATION_TARGET,
        REFRESH_DAY,
        seed_due_rows,
        seed_other_users,
    )
    from tests.support.world import unique

    _, rt, counter = _world(connection)
    seeded = 0
    requests_by_size: dict[int, int] = {}
    for users in sizes.refresh_users:
        seed_other_users(rt, users - seeded)
        seeded = users
        rt.stores.removals.remove_many(rt.stores.removals.due(date(2026, 12, 31), 100_000))
        seed_due_rows(rt, unique("leaving"), learners=10, per_learner=2)
        for table in ("webhooks", "activity"):
            rt.tables.table(table)
        counter.reset()
        started = time.perf_counter()
        summary = refresh(rt.deps, REFRESH_DAY)
        seconds = time.perf_counter() - started
        requests_by_size[users] = counter.total
        bench.add(f"refresh requests, 20 rows of one organization due among {users} users", counter.total, "requests",
                  f"<= {ONE_ORGANIZATION_TARGET}", counter.total <= ONE_ORGANIZATION_TARGET and summary.rows_removed == 20)  # fmt: skip
        bench.add(f"refresh seconds, 20 rows due among {users} users", seconds, "s")
    low, high = requests_by_size[sizes.refresh_users[0]], requests_by_size[sizes.refresh_users[-1]]
    bench.add(
        "refresh requests growth, smallest to largest",
        high / low,
        "x",
        "<= 1.10",
        high / low <= 1.10,
    )

    from tests.functions.test_reports import row

    for rows in sizes.report_rows:
        tenant = unique("report")
        rt.stores.report.put_rows(
            tenant, [row(f"p{n:05d}@contoso.com", "AZ-104") for n in range(rows)]
        )
        started = time.perf_counter()
        token, total = None, 0
        while True:
            page, token = rt.stores.report.page(tenant, token)
            total += len(page)
            if token is None:
                break
        bench.add(f"skills report, all pages, {rows} rows", time.perf_counter() - started, "s")
    designations_read(bench, rt, counter, sizes.report_rows[-1])


def designations_read(bench: Bench, rt: Any, counter: Any, rows: int) -> None:
    """GET /org/designations on an organization with `rows` credited rows: one read of
    the rows (pages of 1,000) and one of the organization's settings."""
    from shared.services import reports
    from shared.services.commands import ReadDesignations
    from shared.services.designations import load_catalog
    from tests.functions.test_reports import row
    from tests.support.world import ADMIN, Person, unique

    tenant = unique("designations")
    eligible = sorted(load_catalog().credentials)
    today = rt.clock.now()
    made = []
    for n in range(rows):
        credited = row(f"p{n % (rows // 3 or 1):05d}@contoso.com", eligible[n % len(eligible)])
        # A third expire within the next 180 days: the timeline has work to do.
        expires = today + timedelta(days=1 + n % 179) if n % 3 == 0 else None
        made.append(credited.model_copy(update={"expires_at": expires}))
    rt.stores.report.put_rows(tenant, made)
    admin = Person(tenant, f"{unique('admin')}@contoso.com", ADMIN).caller
    counter.reset()
    started = time.perf_counter()
    view = reports.designations(rt.deps, admin, ReadDesignations())
    seconds = time.perf_counter() - started
    # Every page of the rows (the last one may come back empty) and the settings.
    target = rows // reports.WHOLE_READ_PAGE + 1 + 1
    bench.add(f"designations read, {rows} report rows: requests", counter.total, "requests",
              f"<= {target} (rows' pages + settings)", counter.total <= target)  # fmt: skip
    bench.add(f"designations read, {rows} report rows: seconds", seconds, "s",
              f"{sum(len(d.expiry) for d in view.designations)} expiry drops")  # fmt: skip


def cold_start(bench: Bench, connection: str, sizes: Sizes) -> None:
    def import_seconds(module: str) -> float:
        code = (
            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        )
        output = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return float(output.stdout.strip())

    bare = statistics.median(import_seconds("azure.functions") for _ in range(sizes.import_runs))
    app = statistics.median(import_seconds("function_app") for _ in range(sizes.import_runs))
    bench.add("import azure.functions (median)", bare * 1000, "ms")
    bench.add("import function_app (median)", app * 1000, "ms")
    bench.add(
        "import ratio function_app / azure.functions", app / bare, "x", "<= 1.5", app / bare <= 1.5
    )
    # ru_maxrss survives exec on Linux (a child would report this process's peak), so
    # the children read their own high-water mark from /proc.
    code = "import function_app; from benchmarks.run import peak_rss_kib; print(peak_rss_kib())"
    rss = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    bench.add("peak RSS after import", int(rss.stdout.strip()) / 1024, "MiB")
    code = (
        "from benchmarks.run import burst, peak_rss_kib; "
        f"burst({connection!r}, {sizes.burst_links}); print(peak_rss_kib())"
    )
    rss = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    bench.add(
        f"peak RSS after a burst of {sizes.burst_links} links",
        int(rss.stdout.strip().splitlines()[-1]) / 1024,
        "MiB",
    )


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def burst(connection: str, links: int) -> None:
    import function_app
    from devtools.routing import http_routes
    from shared.domain.model import PartnerUser
    from tests.support.api import FunctionClient
    from tests.support.world import Person, unique

    world, rt, _ = _world(connection)
    api = FunctionClient(http_routes(list(function_app.app.get_functions())), world)
    tenant = world.tenant()
    for n in range(links):
        person = Person(tenant, f"b{n}@contoso.com")
        rt.stores.users.insert(
            PartnerUser(
                tenant_id=tenant, email=person.email, display_name="B", created_at=world.clock.now()
            )
        )
        api.link(person, "learn", world.assertion(unique("MCID")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves the command runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    sys.path.insert(0, str(ROOT))
    from devtools import azurite

    bench = Bench()
    started = time.perf_counter()
    print(f"{'figure':<58} {'value':>12} {'unit':<10} {'target':<28}")
    with azurite.running() as ports:
        connection = ports.connection_string
        from devtools.host import FunctionHost

        host = FunctionHost.for_project(connection)
        round_trips(bench, connection, host)
        throughput(bench, connection, sizes, host)
        credit_processes(bench, connection, sizes, host)
        cost_growth(bench, connection, sizes)
        cold_start(bench, connection, sizes)
    from benchmarks.load import (
        LOAD_SMOKE,
        OPEN_LOOP_SMOKE,
        LoadSizes,
        OpenLoopSizes,
        run_load,
        run_open_loop,
    )

    run_load(bench, LOAD_SMOKE if args.smoke else LoadSizes())
    run_open_loop(bench, OPEN_LOOP_SMOKE if args.smoke else OpenLoopSizes())
    total = time.perf_counter() - started
    print(f"finished in {total:.0f} s on {platform.platform()} ({os.cpu_count()} cores)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "machine": {"platform": platform.platform(), "cores": os.cpu_count(), "python": platform.python_version()},
        "seconds": total, "smoke": args.smoke,
        "figures": [f.__dict__ for f in bench.figures],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
